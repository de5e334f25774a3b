#!/usr/bin/env bash
# Conformance, concurrency and restart suite: drives a real opendbs-test-node with the Alibaba Cloud
# SDKs (tests/node/*.test.js, node's built-in test runner). Usage: tests/suites/conformance.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
# BUILD_DIR relative to the caller's directory, else to the repository root.
if [ -d "$build" ]; then build=$(cd "$build" && pwd); else build=$(cd "$root/$build" && pwd); fi
cd "$root"
export OPENDBS_TEST_NODE="$build/opendbs-test-node"
if [ ! -x "$OPENDBS_TEST_NODE" ]; then
  echo "conformance: $OPENDBS_TEST_NODE not found; build the target opendbs-test-node first" >&2
  exit 1
fi
if [ ! -d tests/node/node_modules/@alicloud/pop-core ]; then
  (cd tests/node && npm ci --no-audit --no-fund)
fi
cd tests/node
# The files of this suite (other suites may keep their own Node tests in tests/node). The two slow,
# mostly waiting files first, so that the others run beside them.
exec node --test --test-concurrency=2 --test-reporter=spec \
  restart.test.js schedule.test.js lifecycle.test.js errors.test.js ram.test.js concurrency.test.js download.test.js prune.test.js
