#!/usr/bin/env bash
# Conformance, concurrency and restart suite: drives a real opendbs-test-node with the Alibaba Cloud
# SDKs (tests/node/*.test.js, node's built-in test runner). Usage: tests/suites/conformance.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)
export OPENDBS_TEST_NODE="$build/opendbs-test-node"
if [ ! -x "$OPENDBS_TEST_NODE" ]; then
  echo "conformance: $OPENDBS_TEST_NODE not found; build the target opendbs-test-node first" >&2
  exit 1
fi
if [ ! -d tests/node/node_modules/@alicloud/pop-core ]; then
  (cd tests/node && npm ci --no-audit --no-fund)
fi
cd tests/node
exec node --test --test-concurrency=2 --test-reporter=spec ./*.test.js
