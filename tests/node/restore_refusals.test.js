// Restores a real node refuses rather than carries out wrongly (a real PostgreSQL 15 behind it):
// a RestoreTime before the EndTime of the BackupSetId given (that set could only restore to its own,
// later, end) and a physical restore into the node without RestoreDir are refused by
// CreateRestoreTask with nothing created; a restore into a RestoreDir that another process holds
// (as a restore by another node process on the machine does) ends at once without writing, and once
// the directory is free the moment restores exactly, from the older set.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { waitFor, sleep } = require('./lib/node_process');
const { makeClient, errorCode } = require('./lib/clients');
const P = require('./lib/plans');
const { PgSource } = require('./lib/pg_source');
const { startSourceAndNode, createPgPlan } = require('./lib/pg_plans');

async function refusal(client, action, params) {
  try {
    await client.call(action, params);
  } catch (err) {
    return err;
  }
  assert.fail(`${action} was accepted: ${JSON.stringify(params)}`);
}

async function restoreEnded(api, id) {
  return waitFor(`restore ${id} to end`, async () => {
    const d = await P.restoreTask(api, id);
    return (d.RestoreStatus === 'finish' || d.RestoreStatus === 'stop') && d;
  }, { timeoutMs: 120000, intervalMs: 250 });
}

test('restores that could only go wrong are refused, and a held RestoreDir is not written', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
  const raw = makeClient(node, 'pop-post');
  source.query('CREATE TABLE moments (id int)');
  source.query('INSERT INTO moments SELECT generate_series(1, 10)');
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const first = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, first, 'finish', 120000);
  source.query('INSERT INTO moments VALUES (11)');
  await sleep(100);
  const moment = Date.now();  // 11 rows
  const atMoment = source.checksum('moments');
  await sleep(100);
  source.query('INSERT INTO moments VALUES (99)');
  const second = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  const secondSet = await P.waitSetStatus(api, planId, second, 'finish', 120000);
  assert.ok(secondSet.EndTime > moment);

  const dir = PgSource.restoreTarget();
  const base = { BackupPlanId: planId, RestoreTaskName: 'r', DestinationEndpointInstanceType: 'Agent' };
  const early = await refusal(raw, 'CreateRestoreTask', { ...base, BackupSetId: second, RestoreTime: moment, RestoreDir: dir });
  assert.equal(errorCode(early), 'InvalidParameter', early.message);
  for (const text of [`BackupSetId ${second}`, `EndTime ${secondSet.EndTime}`]) assert.ok(early.message.includes(text), early.message);
  const noDir = await refusal(raw, 'CreateRestoreTask', { ...base, BackupSetId: first, DestinationEndpointDatabaseName: 'postgres' });
  assert.equal(errorCode(noDir), 'MissingParameter');
  assert.ok(noDir.message.includes('RestoreDir'), noDir.message);
  assert.equal((await api.call('DescribeRestoreTaskList', { BackupPlanId: planId })).TotalElements, 0);

  // The moment becomes restorable once the WAL after it is stored.
  source.query('SELECT pg_switch_wal()');
  await waitFor('the range to reach the moment', async () => {
    const ranges = await api.call('DescribeRestoreRangeInfo', { BackupPlanId: planId,
      BeginTimestampForRestore: moment, EndTimestampForRestore: Date.now() + 60000 });
    return ranges.Items.DBSRecoverRange.some((r) => r.BeginTimestampForRestore <= moment && r.EndTimestampForRestore >= moment);
  }, { timeoutMs: 60000, intervalMs: 250 });

  // Another process holds the directory, as flock(1) here: the restore ends at once, writing nothing.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ready = `${path.dirname(dir)}/lock-held`;
  const holder = spawn('flock', ['-n', dir, 'sh', '-c', `touch ${ready}; exec sleep 600`], { stdio: 'ignore', detached: true });
  const release = () => { try { process.kill(-holder.pid, 'SIGKILL'); } catch { /* gone */ } };
  t.after(release);
  await waitFor('the other process to hold the directory', async () => fs.existsSync(ready), { timeoutMs: 10000, intervalMs: 50 });
  const blocked = await api.call('CreateRestoreTask', { ...base, RestoreTime: moment, RestoreDir: dir });
  await api.call('StartRestoreTask', { RestoreTaskId: blocked.RestoreTaskId });
  const stopped = await restoreEnded(api, blocked.RestoreTaskId);
  assert.equal(stopped.RestoreStatus, 'stop');
  assert.ok(stopped.ErrMessage.includes(`RestoreDir ${dir} is locked by another restore`), stopped.ErrMessage);
  assert.deepEqual(fs.readdirSync(dir), []);
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  release();
  await exited;

  const restore = await api.call('CreateRestoreTask', { ...base, RestoreTime: moment, RestoreDir: dir });
  await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
  const done = await restoreEnded(api, restore.RestoreTaskId);
  assert.equal(done.RestoreStatus, 'finish', done.ErrMessage);
  assert.equal(done.BackupSetId, first);
  const restored = await PgSource.open(dir);
  t.after(() => restored.dispose());
  assert.equal(restored.checksum('moments'), atMoment);
  assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')));
});
