// A real PostgreSQL 15 behind a real node (opendbs-test-node registers the real PostgresEngine):
// kill -9 of the node during a physical full backup and during log backup, and the warning about WAL
// a stopped plan's replication slot keeps on the source.
//   - kill -9 mid base backup → after the restart the task is taken again once its lease expired,
//     the set finishes once and restores the source's tables exactly;
//   - kill -9 during log backup, writes while the node is down, more after the restart → the WAL
//     chain in DescribeIncrementBackupList has no gap and a point-in-time restore to a moment while
//     the node was down shows the tables as they were then;
//   - kill -9 mid physical restore → meanwhile the directory is marked and PostgreSQL refuses it; after
//     the restart the restore task is taken again, finishes, and the server started on it has the set's
//     tables;
//   - a stopped plan's slot keeps the WAL written meanwhile: past --slot-retain-warn-bytes the plan's
//     ErrMessage and /metrics say so; StartBackupPlan drains it and the warning goes.
'use strict';

const { describe, test } = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');

const { TestNode, waitFor, sleep } = require('./lib/node_process');
const { makeClient } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const { PgSource } = require('./lib/pg_source');
const P = require('./lib/plans');
const { createPgPlan, restoreAndOpen } = require('./lib/pg_plans');

const LEASE_MS = 30000;  // the node's default --lease-ms: a killed node's tasks are taken again after it
const MiB = 1 << 20;

// WAL file name → segment number (16 MiB segments: 256 per "log" id).
function segno(name) {
  return parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
}

const PGBENCH_TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history'];

// pgbench tables on `source` (~600 MiB of data directory) and their checksums, and a physical plan of
// it on `node` whose first full backup has been started.
async function startPgbenchBackup(source, node) {
  source.pgbenchInit(40);
  const before = Object.fromEntries(PGBENCH_TABLES.map((table) => [table, source.checksum(table)]));
  const api = checked(makeClient(node, 'pop-post'));
  const planId = await createPgPlan(api, source, { EnableBackupLog: false });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  return { before, planId, setId };
}

// Asserts that the restored server holds the pgbench tables as `before` has them, then stops it.
function checkPgbenchTablesAndDispose(restored, before) {
  try {
    for (const table of PGBENCH_TABLES) assert.equal(restored.checksum(table), before[table], table);
  } finally {
    restored.dispose();
  }
}

describe('PostgreSQL through the node: crashes and retained WAL', { concurrency: true }, () => {
  test('kill -9 during a physical full backup: the backup is taken again and its set restores the tables', async (t) => {
    const source = await PgSource.create();
    const node = await TestNode.start({ workers: 2 });
    try {
      const { before, planId, setId } = await startPgbenchBackup(source, node);
      let api = checked(makeClient(node, 'pop-post'));
      // The source itself says when the base backup is streaming its files (the node records progress
      // only once a second, and the whole backup takes about as long).
      const midway = await waitFor('the base backup under way', async () => {
        const streamed = source.query(
          "SELECT backup_streamed FROM pg_stat_progress_basebackup WHERE phase = 'streaming database files'");
        if (Number(streamed) >= 32 * MiB) return Number(streamed);
        const s = await P.fullSet(api, planId, setId);
        if (s.BackupStatus === 'finish') throw new Error('the backup finished before the kill: make the source bigger');
        return false;
      }, { timeoutMs: 60000, intervalMs: 10 });
      t.diagnostic(`killed after ${Math.round(midway / MiB)} MiB of the base backup`);

      const killedAt = Date.now();
      await node.kill9();
      await node.restart();
      api = checked(makeClient(node, 'pop-post'));
      const retaken = await waitFor('the full backup taken again', async () => {
        const s = await P.fullSet(api, planId, setId);
        return s.StartTime > killedAt && s;
      }, { timeoutMs: LEASE_MS + 20000, intervalMs: 250 });
      t.diagnostic(`taken again ${retaken.StartTime - killedAt} ms after kill -9`);
      const finished = await P.waitSetStatus(api, planId, setId, 'finish', 180000);
      t.diagnostic(`second attempt: ${finished.BackupDataSize} bytes in ${finished.FinishTime - finished.StartTime} ms`);
      assert.deepEqual((await P.fullSets(api, planId)).map((s) => s.BackupSetId), [setId], 'one set for the task');
      await P.waitTaskState(api, setId, 'succeeded', 5000);
      assert.equal(source.query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'"), '0',
        'no base backup left running on the source');

      checkPgbenchTablesAndDispose(await restoreAndOpen(api, planId, { setId }), before);
    } finally {
      await node.dispose();
      source.dispose();
    }
  });

  test('kill -9 during a physical restore: PostgreSQL refuses the directory meanwhile, the retried task finishes it',
    async (t) => {
      const source = await PgSource.create();
      const node = await TestNode.start({ workers: 2 });
      try {
        const { before, planId, setId } = await startPgbenchBackup(source, node);
        let api = checked(makeClient(node, 'pop-post'));
        await P.waitSetStatus(api, planId, setId, 'finish', 180000);
        source.query('UPDATE pgbench_branches SET bbalance = bbalance + 1');  // the source moves on

        const dir = PgSource.restoreTarget();
        const { RestoreTaskId } = await api.call('CreateRestoreTask', {
          BackupPlanId: planId, RestoreTaskName: 'killed', BackupSetId: setId, DestinationEndpointInstanceType: 'Agent',
          RestoreDir: dir,
        });
        await api.call('StartRestoreTask', { RestoreTaskId });
        // The restore marks the directory before it writes anything; killed once the copy is under way.
        const mark = path.join(dir, 'OPENDBS_RESTORE_UNFINISHED');
        const copy = path.join(dir, 'opendbs_restore_copy');
        await waitFor('the restore copying', async () => {
          if (fs.existsSync(copy) && fs.readdirSync(copy).length > 0) return true;
          if ((await P.restoreTask(api, RestoreTaskId)).RestoreStatus === 'finish')
            throw new Error('the restore finished before the kill: make the source bigger');
          return false;
        }, { timeoutMs: 60000, intervalMs: 10 });
        await sleep(200);
        const killedAt = Date.now();
        await node.kill9();
        assert.ok(fs.existsSync(mark), 'the directory of the killed restore is marked');
        assert.ok(!fs.existsSync(path.join(dir, 'global', 'pg_control')), 'no global/pg_control in it');
        await assert.rejects(PgSource.open(dir), 'PostgreSQL refuses to start on the killed restore');

        await node.restart();
        api = checked(makeClient(node, 'pop-post'));
        const finished = await waitFor('the retried restore finished', async () => {
          const d = await P.restoreTask(api, RestoreTaskId);
          if (d.RestoreStatus === 'stop') throw new Error(`restore failed: ${d.ErrMessage}`);
          return d.RestoreStatus === 'finish' && d;
        }, { timeoutMs: LEASE_MS + 120000, intervalMs: 250 });
        t.diagnostic(`finished ${finished.RestoreTaskFinishTime - killedAt} ms after kill -9`);
        // /metrics counts what the restore wrote (checker G10: it stayed 0).
        await waitFor('the restore\'s bytes in /metrics', async () =>
          (await node.metric('opendbs_task_bytes_total{kind="restore"}')) > 100 * MiB, { timeoutMs: 10000 });
        assert.ok(!fs.existsSync(mark) && !fs.existsSync(copy), 'the mark and the copy directory are gone');
        checkPgbenchTablesAndDispose(await PgSource.open(dir), before);
      } finally {
        await node.dispose();
        source.dispose();
      }
    });

  test('kill -9 during log backup: no gap in the WAL chain, and a restore to a moment while the node was down',
    async (t) => {
      const source = await PgSource.create();
      const node = await TestNode.start({ workers: 2 });
      try {
        source.query('CREATE TABLE ledger (id int PRIMARY KEY, note text)');
        source.query("INSERT INTO ledger SELECT g, 'before' FROM generate_series(1, 1000) g");
        let api = checked(makeClient(node, 'pop-post'));
        const planId = await createPgPlan(api, source, { EnableBackupLog: true });
        const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        await P.waitSetStatus(api, planId, setId, 'finish', 60000);
        source.query("INSERT INTO ledger SELECT g, 'streamed' FROM generate_series(1001, 2000) g");
        source.query('SELECT pg_switch_wal()');
        await waitFor('a completed WAL file', async () =>
          (await P.logFiles(api, planId)).some((f) => f.BackupStatus === 'COMPLETED'), { timeoutMs: 30000 });
        const logTaskId = (await P.logFiles(api, planId))[0].BackupSetJobId;

        const killedAt = Date.now();
        await node.kill9();
        // The node is down: the slot keeps what is written now.
        source.query("INSERT INTO ledger SELECT g, 'while down' FROM generate_series(2001, 3000) g");
        source.query("UPDATE ledger SET note = 'changed while down' WHERE id <= 100");
        source.query('SELECT pg_switch_wal()');
        source.query("INSERT INTO ledger SELECT g, 'while down 2' FROM generate_series(3001, 3500) g");
        await sleep(100);
        const moment = Date.now();
        const atMoment = source.checksum('ledger');
        await sleep(100);
        source.query("DELETE FROM ledger WHERE id > 3400");
        await node.restart();
        api = checked(makeClient(node, 'pop-post'));
        source.query("INSERT INTO ledger SELECT g, 'after restart' FROM generate_series(4001, 4500) g");
        source.query('SELECT pg_switch_wal()');

        await waitFor('the log backup taken again and past the moment', async () => {
          const plan = await P.describePlan(api, planId, { ShowRecoverTimeRange: 'true' });
          return plan.EndTimestampForRestore > moment;
        }, { timeoutMs: LEASE_MS + 60000, intervalMs: 500 });
        t.diagnostic(`restorable past the moment ${Date.now() - killedAt} ms after kill -9`);
        assert.equal((await P.task(api, logTaskId)).JobState, 'running', 'the same log backup task resumed');

        const completed = (await P.logFiles(api, planId)).filter((f) => f.BackupStatus === 'COMPLETED')
          .map((f) => f.BackupSetId).sort();
        const numbers = completed.map(segno);
        assert.ok(numbers.length >= 3, `WAL files: ${completed}`);
        for (let i = 1; i < numbers.length; i++)
          assert.equal(numbers[i], numbers[i - 1] + 1, `no gap between ${completed[i - 1]} and ${completed[i]}`);
        assert.equal(new Set(completed).size, completed.length, 'no WAL file listed twice');

        const restored = await restoreAndOpen(api, planId, { restoreTime: moment });
        try {
          assert.equal(restored.checksum('ledger'), atMoment, 'the table as it was while the node was down');
          assert.equal(restored.query("SELECT count(*) FROM ledger WHERE note = 'after restart'"), '0');
        } finally {
          restored.dispose();
        }
        await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
      } finally {
        await node.dispose();
        source.dispose();
      }
    });

  test('a stopped plan whose slot keeps more WAL than the bound is warned about, and the warning goes after Start',
    async () => {
      const BOUND = 24 * MiB;  // above one WAL segment, which a running stream keeps until it is complete
      const source = await PgSource.create();
      const node = await TestNode.start({ workers: 2, env: {
        OPENDBS_SLOT_RETAIN_WARN_BYTES: String(BOUND), OPENDBS_SLOT_WATCH_INTERVAL_MS: '500' } });
      try {
        const api = checked(makeClient(node, 'pop-post'));
        const planId = await createPgPlan(api, source, { EnableBackupLog: true });
        const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        await P.waitSetStatus(api, planId, setId, 'finish', 60000);
        await waitFor('the log backup streaming', async () => (await P.logFiles(api, planId)).length > 0);
        await sleep(1500);  // a few watch passes while the stream runs: it keeps at most its open segment
        assert.equal((await P.describePlan(api, planId)).ErrMessage, '');

        await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
        const logTaskId = (await P.logFiles(api, planId))[0].BackupSetJobId;
        await P.waitTaskState(api, logTaskId, 'cancelled', 10000);
        // A stream that falls behind on a loaded machine may be warned about for a moment too: count
        // from here, the episode this test makes.
        const warningsBefore = node.events('log_retention_warning', { plan: planId }).length;
        source.query('CREATE TABLE filler (id int, pad text)');
        source.query('INSERT INTO filler SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 200000) g');  // ~70 MiB of WAL

        const warned = await waitFor('the retained-WAL warning', async () => {
          const plan = await P.describePlan(api, planId);
          return plan.ErrMessage.includes('log backup is not running') && plan;
        }, { timeoutMs: 15000, intervalMs: 250 });
        assert.match(warned.ErrMessage, /the source keeps \d+\.\d MiB of log for this plan \(warning at 24\.0 MiB\)/);
        assert.equal(warned.BackupPlanStatus, 'pause');
        assert.ok(await node.metric(`opendbs_log_slot_retained_bytes{plan="${planId}"}`) >= BOUND);
        assert.equal(node.events('log_retention_warning', { plan: planId }).length, warningsBefore + 1);

        await api.call('StartBackupPlan', { BackupPlanId: planId });
        await waitFor('the log backup caught up', async () =>
          await node.metric(`opendbs_log_slot_retained_bytes{plan="${planId}"}`) < BOUND, { timeoutMs: 60000, intervalMs: 250 });
        await sleep(1500);  // a few watch passes (a finished full backup also resets ErrMessage, so wait for them)
        assert.equal((await P.describePlan(api, planId)).ErrMessage, '', 'the warning is gone');
        await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
      } finally {
        await node.dispose();
        source.dispose();
      }
    });
});
