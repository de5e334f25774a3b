#!/usr/bin/env bash
# bench/postgres once at pgbench scale 1, every step: the one benchmark command keeps working, and
# both tools' restores are started and checked (the bench exits non-zero otherwise). Its times mean
# nothing on a shared CI machine and are not compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
workdir=$(mktemp -d /tmp/opendbs-bench-smoke.XXXXXX)
log="$workdir.log"
OPENDBS_PG_BENCH="$build/bench/postgres/opendbs-pg-bench" \
  bench/postgres/run --scale 1 --repeat 1 --lag-seconds 5 --workdir "$workdir" >"$log" 2>&1 ||
  { cat "$log"; exit 1; }
for report in "## bench/postgres — pgbench scale 1" "opendbs's restore checked" "pgbackrest's restore checked" \
              "## bench/postgres logical — pgbench scale 1" "## bench/postgres lag"; do
  grep -qF "$report" "$log" || { cat "$log"; echo "bench-smoke: the bench printed no '$report'"; exit 1; }
done
echo "bench-smoke: every step ran, both restores checked"
rm -f "$log"
