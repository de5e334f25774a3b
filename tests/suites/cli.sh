#!/usr/bin/env bash
# Tests of the opendbs command line (tests/cli): the friendly commands, --wait progress on a pseudo-
# terminal and on a pipe, `opendbs call`, error messages and exit codes, against the build in $1.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)

for need in "$build/opendbs-test-node" "$build/opendbs"; do
  if [ ! -x "$need" ]; then
    echo "cli tests need $need (cmake --build $build --target opendbs opendbs-test-node)" >&2
    exit 1
  fi
done
command -v script >/dev/null || { echo "cli tests need script(1) from util-linux (a pseudo-terminal)" >&2; exit 1; }

export OPENDBS_TEST_NODE="$build/opendbs-test-node"
export OPENDBS_CLI="$build/opendbs"
exec node --test --test-reporter=spec tests/cli/*.test.js
