#!/usr/bin/env bash
# A real PostgreSQL 15 behind a real node: kill -9 during a physical full backup and during log backup,
# and the retained-WAL warning of a stopped plan (postgres_crash.test.js); logical restores into a
# server with RestoreObjects and DuplicateConflict (logical_restore.test.js); the segment filling when log
# backup is disabled ends UNCOMPLETED and its last partial set restores, also after a gap, and restores to
# the range's end succeed while the source writes (log_backup_end.test.js); a source
# taken back to an earlier moment forks, and a restore after the fork starts from an older full set
# (fork_restore.test.js); restores that could only go wrong are refused at CreateRestoreTask, and one into
# a RestoreDir another process holds writes nothing (restore_refusals.test.js); the plan's replication slot
# is dropped after ReleaseBackupPlan while the source is down (retried across a node restart) and after
# ModifyBackupSourceEndpoint to another server (slot_release.test.js).
# Usage: tests/suites/postgres-node.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -d "$build" ]; then build=$(cd "$build" && pwd); else build=$(cd "$root/$build" && pwd); fi
export OPENDBS_TEST_NODE="$build/opendbs-test-node"
if [ ! -x "$OPENDBS_TEST_NODE" ]; then
  echo "postgres-node: $OPENDBS_TEST_NODE not found; build the target opendbs-test-node first" >&2
  exit 1
fi
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "postgres-node: PostgreSQL 15 is not installed (Debian package postgresql-15)" >&2
  exit 1
fi
if [ ! -d "$root/tests/node/node_modules/@alicloud/pop-core" ]; then
  (cd "$root/tests/node" && npm ci --no-audit --no-fund)
fi
cd "$root/tests/node"
exec node --test --test-reporter=spec postgres_crash.test.js logical_restore.test.js log_backup_end.test.js \
  fork_restore.test.js restore_refusals.test.js slot_release.test.js
