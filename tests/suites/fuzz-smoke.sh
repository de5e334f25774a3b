#!/usr/bin/env bash
# A short libFuzzer run of the request decoder and signature verifier (clang build in build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz-smoke
