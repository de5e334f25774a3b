// A restore after the source was taken back to an earlier moment (a real PostgreSQL 15 behind a real
// node). Full set A, then WAL and full set B on timeline 1; the source is restored into its own data
// directory to a moment between A and B and carries on as the plan's source on timeline 2. The
// restorable range counts log positions, so a moment on timeline 2 lies in the range that B starts;
// B cannot reach it (its WAL was abandoned by the fork), so the restore starts from A and says so. The
// segment timeline 1 was filling when the source stopped keeps its size and EndTime in
// DescribeIncrementBackupList once timeline 2 passes its position (its partial set stays), and
// CreateIncrementBackupSetDownload serves that set as `<WAL file>.partial`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');

const { waitFor, sleep } = require('./lib/node_process');
const P = require('./lib/plans');
const { startSourceAndNode, createPgPlan, restoreAndOpen } = require('./lib/pg_plans');

// The segment position of a WAL file name (timeline left out); equal-length hex compares as text.
const position = (name) => name.slice(8, 24);

test('a restore to a moment after a fork starts from the older full set the fork did not abandon', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
  source.query('CREATE TABLE notes (id int PRIMARY KEY, note text)');
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const fullBackup = async () => {
    const id = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
    await P.waitSetStatus(api, planId, id, 'finish', 120000);
    return id;
  };
  // Closes the segment being written and waits until the log backup stored it whole.
  const storeSegment = async () => {
    const name = source.query('SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
    source.query('SELECT pg_switch_wal()');
    await waitFor(`${name} COMPLETED`, async () =>
      (await P.logFiles(api, planId)).some((f) => f.BackupSetId === name && f.BackupStatus === 'COMPLETED'),
    { timeoutMs: 60000, intervalMs: 200 });
    return name;
  };

  const setA = await fullBackup();
  source.query("INSERT INTO notes VALUES (1, 'kept')");
  await sleep(200);
  const forkMoment = Date.now();
  await sleep(200);
  source.query("INSERT INTO notes VALUES (2, 'abandoned')");
  await storeSegment();
  const setB = await fullBackup();
  source.query("INSERT INTO notes VALUES (3, 'abandoned too')");
  const lastOfTimeline1 = await storeSegment();

  // The operator takes the source back to forkMoment: stopped, restored into its own directory, started.
  source.stop();
  // The segment filling when the source stopped holds its shutdown checkpoint: a partial set is stored.
  const leftOpen = await waitFor('the filling segment of timeline 1 stored in part', async () => {
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId.startsWith('00000001') &&
      position(x.BackupSetId) > position(lastOfTimeline1));
    return f && f.BackupSize > 0 && f;
  }, { timeoutMs: 30000, intervalMs: 200 });
  const back = await api.call('CreateRestoreTask', {
    BackupPlanId: planId, RestoreTaskName: 'back', DestinationEndpointInstanceType: 'Agent',
    RestoreDir: source.dataDir, RestoreTime: forkMoment,
  });
  await api.call('StartRestoreTask', { RestoreTaskId: back.RestoreTaskId });
  const backDone = await waitFor('the source restored', async () => {
    const d = await P.restoreTask(api, back.RestoreTaskId);
    if (d.RestoreStatus === 'stop') throw new Error(`restore failed: ${d.ErrMessage}`);
    return d.RestoreStatus === 'finish' && d;
  }, { timeoutMs: 120000, intervalMs: 250 });
  assert.equal(backDone.BackupSetId, setA);
  if (process.getuid && process.getuid() === 0) execFileSync('chown', ['-R', 'postgres:postgres', source.dataDir]);
  await source.start();
  await waitFor('the source promoted', async () => source.query('SELECT pg_is_in_recovery()') === 'f',
    { timeoutMs: 60000, intervalMs: 200 });
  assert.equal(source.query('SELECT timeline_id FROM pg_control_checkpoint()'), '2');
  assert.equal(source.query('SELECT string_agg(id::text, \',\' ORDER BY id) FROM notes'), '1');

  source.query("INSERT INTO notes VALUES (4, 'after the fork')");
  await sleep(200);
  const afterFork = Date.now();
  // Timeline 2 goes on past the positions timeline 1 reached, so the range from B covers afterFork.
  let name;
  do {
    source.query('INSERT INTO notes SELECT max(id) + 1, \'more\' FROM notes');
    name = await storeSegment();
  } while (!(name.startsWith('00000002') && position(name) > position(lastOfTimeline1)));

  // Timeline 2 has passed that segment's position; the fork keeps its partial set, and so does its entry.
  const left = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === leftOpen.BackupSetId);
  assert.equal(left.BackupStatus, 'UNCOMPLETED');
  assert.ok(left.BackupSize >= leftOpen.BackupSize, `BackupSize ${left.BackupSize} < ${leftOpen.BackupSize}`);
  assert.ok(left.EndTime >= leftOpen.EndTime && left.EndTime > 0, `EndTime ${left.EndTime}`);
  // ... and downloads as that partial set, zero-padded to a whole segment.
  const { BackupSetDownloadTaskId: dl } = await api.call('CreateIncrementBackupSetDownload',
    { BackupSetId: left.BackupSetJobId, BackupSetName: left.BackupSetId });
  const done = await P.waitDownloadFinished(api, dl);
  assert.equal(done.BackupSetDataSize, 16 * 1024 * 1024);
  assert.ok(done.BackupSetDownloadIntranetUrl.includes(`/${left.BackupSetId}.partial?`), done.BackupSetDownloadIntranetUrl);

  const ranges = (await api.call('DescribeRestoreRangeInfo', {
    BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() + 60000,
  })).Items.DBSRecoverRange;
  assert.ok(ranges.some((r) => r.BeginTimestampForRestore <= afterFork && afterFork <= r.EndTimestampForRestore),
    JSON.stringify(ranges));
  const fullB = await P.fullSet(api, planId, setB);
  assert.ok(fullB.EndTime <= afterFork, 'B is the newest set before the moment');

  const restored = await restoreAndOpen(api, planId, { restoreTime: afterFork });
  try {
    assert.equal(restored.query('SELECT string_agg(id::text, \',\' ORDER BY id) FROM notes WHERE id <= 4'), '1,4');
  } finally {
    restored.dispose();
  }
  const restores = (await api.call('DescribeRestoreTaskList', { BackupPlanId: planId })).Items.RestoreTaskDetail;
  const toAfterFork = restores.find((r) => r.RestoreTaskName !== 'back');
  assert.equal(toAfterFork.BackupSetId, setA, 'the restore names the set it started from');
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
});
