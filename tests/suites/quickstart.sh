#!/usr/bin/env bash
# Runs the README's PostgreSQL quick start exactly as written (the shell block after
# <!-- quickstart -->) against a real PostgreSQL 15 and a real node, and checks that it prints what the
# README shows after <!-- quickstart-output -->. The README cannot drift from the truth. It runs twice:
# against a source laid out as initdb makes it and one laid out as Debian's packages make it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
pgbin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
chmod 755 "$work"
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
  runuser -u postgres -- $pgbin/pg_ctl -D /tmp/restored stop -m immediate >/dev/null 2>&1 || true
  for conf in "${sources[@]}"; do runuser -u postgres -- $pgbin/pg_ctl -D "$conf" stop -m immediate >/dev/null 2>&1 || true; done
  rm -rf "$work" /tmp/restored /tmp/restored.log
}
trap cleanup EXIT
rm -rf /tmp/restored

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
block() {  # the fenced block that follows the marker $1 in README.md
  awk -v m="$1" 'index($0, m) {f=1; next} f && /^```/ {if (in_block) exit; in_block=1; next} in_block {print}' "$root/README.md"
}

# A source server as a fresh PostgreSQL 15 would be, with local trust authentication, laid out as
# initdb makes it ("plain") or as Debian's packages do ("debian"): postgresql.conf, pg_hba.conf and
# pg_ident.conf in a directory of their own, outside the data directory a backup copies, the server
# started with `pg_ctl -D` that directory, and passwords over TCP (Debian's scram-sha-256) — the
# restore then writes minimal configuration files of its own (docs/POSTGRES.md, "Restore").
start_source() {
  local data=$work/pg-$1 conf=$work/pg-$1
  mkdir "$data" && chown postgres "$data"
  runuser -u postgres -- $pgbin/initdb -D "$data" -U postgres --auth=trust >/dev/null
  export PGPORT=$(free_port)
  if [ "$1" = debian ]; then
    conf=$work/etc-$1
    mkdir "$conf" && mv "$data"/postgresql.conf "$data"/pg_hba.conf "$data"/pg_ident.conf "$conf"/
    printf "data_directory = '%s'\nhba_file = '%s/pg_hba.conf'\nident_file = '%s/pg_ident.conf'\n" \
      "$data" "$conf" "$conf" >> "$conf/postgresql.conf"
    printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n' \
      > "$conf/pg_hba.conf"
    chown -R postgres "$conf"
  fi
  cat >> "$conf/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
CONF
  runuser -u postgres -- $pgbin/pg_ctl -D "$conf" -l "$conf/server.log" -w start >/dev/null
  sources+=("$conf")
  if [ "$1" = debian ]; then
    runuser -u postgres -- psql -h "$data" -qc "ALTER ROLE postgres PASSWORD 'quickstart'"
    export PGPASSWORD=quickstart
  fi
}
sources=()

# The node, as `make run` starts it, on a free port.
cd "$work"
ln -s "$build" build
build/opendbs serve --data-dir opendbs-data --listen 127.0.0.1:0 2> node.log &
node_pid=$!
for _ in $(seq 50); do grep -q node_started node.log 2>/dev/null && break; sleep 0.2; done
port=$(grep -o '"Port":[0-9]*' node.log | head -1 | cut -d: -f2)
export OPENDBS_ENDPOINT=http://127.0.0.1:$port

block '<!-- quickstart -->' > quickstart.sh
[ -s quickstart.sh ] || { echo "quickstart: no block after <!-- quickstart --> in README.md"; exit 1; }
expected=$(block '<!-- quickstart-output -->')
for layout in plain debian; do
  start_source $layout
  timeout 300 bash -euo pipefail quickstart.sh > output-$layout.txt 2> errors.txt || {
    echo "quickstart ($layout source): the README commands failed"; cat errors.txt; tail -20 node.log; exit 1; }
  if [ "$(cat output-$layout.txt)" != "$expected" ]; then
    echo "quickstart ($layout source): README shows:"; echo "$expected"; echo "but the commands printed:"
    cat output-$layout.txt; exit 1
  fi
  if [ $layout = debian ] && ! grep -q '"event":"postgres_restore_config_written"' node.log; then
    echo "quickstart (debian source): the restore wrote no configuration files, so the set held the source's"; exit 1
  fi
  runuser -u postgres -- $pgbin/pg_ctl -D /tmp/restored stop -m fast >/dev/null
  rm -rf /tmp/restored /tmp/restored.log
done
echo "quickstart: 2 passed (a plain and a Debian-layout source), 0 failed"
