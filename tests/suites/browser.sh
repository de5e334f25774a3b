#!/usr/bin/env bash
# Browser tests of the web console (tests/browser): Debian's Chromium driven by playwright-core
# against the opendbs-test-node and opendbs binaries of the build in $1. Screenshots go to
# tests/artifacts/browser/.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)

for need in "$build/opendbs-test-node" "$build/opendbs" "${OPENDBS_CHROMIUM:-/usr/bin/chromium}" \
            tests/node/node_modules/playwright-core; do
  if [ ! -e "$need" ]; then
    echo "browser tests need $need (build the targets; scripts/install-deps installs chromium and npm packages)" >&2
    exit 1
  fi
done

export OPENDBS_TEST_NODE="$build/opendbs-test-node"
export OPENDBS_CLI="$build/opendbs"
# One file at a time: each starts a node and a browser, and the machine may have two cores.
exec node --test --test-concurrency=1 --test-reporter=spec tests/browser/*.test.js
