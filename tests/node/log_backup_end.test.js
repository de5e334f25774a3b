// What a DBS user sees of the WAL segment that was filling when log backup ends (a real PostgreSQL 15
// behind a real node). While it fills, its received bytes become durable as partial sets every 500 ms
// and its FILLING entry in DescribeIncrementBackupList moves EndTime up; DisableBackupLog keeps the
// last partial set and gives the entry its final status UNCOMPLETED, with that set's EndTime and size.
// That WAL stays restorable: the restorable range reaches it and a restore to its EndTime has a
// commit only the partial set holds; CreateIncrementBackupSetDownload, refused while the file fills,
// then serves that set as `<WAL file>.partial`, zero-padded to a whole segment. EnableBackupLog resumes
// the segment without the file claiming less.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { waitFor, sleep } = require('./lib/node_process');
const { makeClient, errorCode } = require('./lib/clients');
const P = require('./lib/plans');
const { startSourceAndNode, createPgPlan, restoreAndOpen } = require('./lib/pg_plans');

const SEGMENT_BYTES = 16 * 1024 * 1024;

test('DisableBackupLog leaves the filling segment UNCOMPLETED with its last partial set, which restores', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
  source.query('CREATE TABLE recent (id int PRIMARY KEY, note text); CREATE TABLE tick (at timestamptz DEFAULT now())');
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, setId, 'finish', 120000);

  source.query("INSERT INTO recent SELECT g, 'kept' FROM generate_series(1, 250) g");
  // Once the insert has returned its commit is flushed: a partial set ending at or after this moment
  // was cut from WAL the server sent afterwards, which holds the commit.
  const visible = Date.now();
  const segment = source.query('SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
  const filling = await waitFor(`a partial set of ${segment} past the insert`, async () => {
    source.query('INSERT INTO tick DEFAULT VALUES');  // WAL keeps arriving, so partial sets keep being cut
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
    return f && f.BackupStatus === 'FILLING' && f.EndTime >= visible && f;
  }, { timeoutMs: 30000, intervalMs: 100 });
  assert.ok(filling.BackupSize > 0 && filling.BackupSize < SEGMENT_BYTES, `partial size ${filling.BackupSize}`);
  let refused;
  try {
    await makeClient(node, 'pop-post').call('CreateIncrementBackupSetDownload',
      { BackupSetId: filling.BackupSetJobId, BackupSetName: segment });
  } catch (err) {
    refused = err;
  }
  assert.equal(refused && errorCode(refused), 'OperationDenied.PlanStatus');

  await api.call('DisableBackupLog', { BackupPlanId: planId });
  const ended = await waitFor(`${segment} to leave FILLING`, async () => {
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
    return f.BackupStatus !== 'FILLING' && f;
  }, { timeoutMs: 15000, intervalMs: 100 });
  assert.equal(ended.BackupStatus, 'UNCOMPLETED');
  assert.ok(ended.EndTime >= filling.EndTime, `EndTime ${ended.EndTime} < ${filling.EndTime}`);
  assert.ok(ended.BackupSize >= filling.BackupSize && ended.BackupSize < SEGMENT_BYTES);
  assert.equal(ended.BackupSetJobId, filling.BackupSetJobId);
  assert.equal((await P.waitTaskState(api, ended.BackupSetJobId, 'cancelled')).JobType, 'log_backup');

  // Final: nothing reports the file again while log backup is off.
  await sleep(1500);
  const later = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
  assert.deepEqual(later, ended);
  assert.ok((await P.logFiles(api, planId)).every((f) => f.BackupStatus !== 'FILLING'));

  const { BackupSetDownloadTaskId: dl } = await api.call('CreateIncrementBackupSetDownload',
    { BackupSetId: ended.BackupSetJobId, BackupSetName: segment });
  const done = await P.waitDownloadFinished(api, dl);
  assert.equal(done.BackupSetDataSize, SEGMENT_BYTES);
  const res = await fetch(done.BackupSetDownloadIntranetUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="${segment}.partial"`);
  const wal = Buffer.from(await res.arrayBuffer());
  assert.equal(wal.length, SEGMENT_BYTES);
  assert.notEqual(wal.readUInt16LE(0), 0, 'the first page header (xlp_magic)');
  assert.ok(wal.subarray(ended.BackupSize).every((b) => b === 0), 'zeros after the stored part');

  const ranges = (await api.call('DescribeRestoreRangeInfo', {
    BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() + 60000,
  })).Items.DBSRecoverRange;
  assert.equal(ranges.length, 1, JSON.stringify(ranges));
  assert.equal(ranges[0].RangeType, 'range');
  assert.equal(ranges[0].EndTimestampForRestore, ended.EndTime);

  const restored = await restoreAndOpen(api, planId, { restoreTime: ended.EndTime });
  try {
    assert.equal(restored.query("SELECT count(*) FROM recent WHERE note = 'kept'"), '250');
  } finally {
    restored.dispose();
  }

  // EnableBackupLog resumes at that segment: a new task reports it FILLING again, and until the new
  // stream has stored more of it the file still claims what the earlier partial set holds.
  await api.call('EnableBackupLog', { BackupPlanId: planId });
  const resumed = await waitFor(`${segment} reopened`, async () => {
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
    return f.BackupSetJobId !== ended.BackupSetJobId && f;
  }, { timeoutMs: 30000, intervalMs: 100 });
  assert.ok(['FILLING', 'COMPLETED'].includes(resumed.BackupStatus), resumed.BackupStatus);
  assert.ok(resumed.EndTime >= ended.EndTime, `EndTime ${resumed.EndTime} < ${ended.EndTime}`);
  assert.ok(resumed.BackupSize >= ended.BackupSize);
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
});
