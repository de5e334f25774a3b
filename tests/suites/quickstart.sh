#!/usr/bin/env bash
# Runs the README's PostgreSQL quick start exactly as written (the shell block after
# <!-- quickstart -->) against a real PostgreSQL 15 and a real node, and checks that it prints what the
# README shows after <!-- quickstart-output -->. The README cannot drift from the truth.
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
  runuser -u postgres -- $pgbin/pg_ctl -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work" /tmp/restored /tmp/restored.log
}
trap cleanup EXIT
rm -rf /tmp/restored

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
block() {  # the fenced block that follows the marker $1 in README.md
  awk -v m="$1" 'index($0, m) {f=1; next} f && /^```/ {if (in_block) exit; in_block=1; next} in_block {print}' "$root/README.md"
}

# A source server as a fresh Debian PostgreSQL 15 would be, with local trust authentication.
mkdir "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- $pgbin/initdb -D "$work/pg" -U postgres --auth=trust >/dev/null
export PGPORT=$(free_port)
cat >> "$work/pg/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work/pg'
CONF
runuser -u postgres -- $pgbin/pg_ctl -D "$work/pg" -l "$work/pg/server.log" -w start >/dev/null

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
timeout 300 bash -euo pipefail quickstart.sh > output.txt 2> errors.txt || {
  echo "quickstart: the README commands failed"; cat errors.txt; tail -20 node.log; exit 1; }
expected=$(block '<!-- quickstart-output -->')
if [ "$(cat output.txt)" != "$expected" ]; then
  echo "quickstart: README shows:"; echo "$expected"; echo "but the commands printed:"; cat output.txt; exit 1
fi
echo "quickstart: 1 passed, 0 failed"
