// What a DBS user sees of the WAL segment that was filling when log backup ends (a real PostgreSQL 15
// behind a real node). While it fills, its received bytes become durable as partial sets every 500 ms
// and its FILLING entry in DescribeIncrementBackupList moves EndTime up; DisableBackupLog keeps the
// last partial set and gives the entry its final status UNCOMPLETED, with that set's EndTime and size.
// That WAL stays restorable: the restorable range reaches it and a restore to its EndTime has a
// commit only the partial set holds; CreateIncrementBackupSetDownload, refused while the file fills,
// then serves that set as `<WAL file>.partial`, zero-padded to a whole segment. EnableBackupLog resumes
// the segment without the file claiming less; or, when the source has removed the segment meanwhile,
// continues after a gap, and the file still claims what its partial set holds. While the segment fills,
// restores to the range's end succeed although the stream replaces the partial set under them.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { waitFor, sleep } = require('./lib/node_process');
const { makeClient, errorCode } = require('./lib/clients');
const P = require('./lib/plans');
const { startSourceAndNode, createPgPlan, restoreAndOpen } = require('./lib/pg_plans');

const SEGMENT_BYTES = 16 * 1024 * 1024;

// A plan whose log backup streams the source's WAL after its first full set (`schema` created first).
async function streamingPlan(api, source, schema) {
  source.query(schema);
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, setId, 'finish', 120000);
  return planId;
}

// 250 rows into `recent`, then the segment filling meanwhile once a partial set past the insert is
// listed: { segment, visible (a moment the rows were committed by), file (its log file record) }.
async function rowsInTheFillingSegment(api, source, planId) {
  source.query("INSERT INTO recent SELECT g, 'kept' FROM generate_series(1, 250) g");
  // Once the insert has returned its commit is flushed: a partial set ending at or after this moment
  // was cut from WAL the server sent afterwards, which holds the commit.
  const visible = Date.now();
  const segment = source.query('SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
  const file = await waitFor(`a partial set of ${segment} past the insert`, async () => {
    source.query('INSERT INTO tick DEFAULT VALUES');  // WAL keeps arriving, so partial sets keep being cut
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
    return f && f.BackupStatus === 'FILLING' && f.EndTime >= visible && f;
  }, { timeoutMs: 30000, intervalMs: 100 });
  return { segment, visible, file };
}

const RECENT_AND_TICK = 'CREATE TABLE recent (id int PRIMARY KEY, note text); CREATE TABLE tick (at timestamptz DEFAULT now())';

test('DisableBackupLog leaves the filling segment UNCOMPLETED with its last partial set, which restores', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
  const planId = await streamingPlan(api, source, RECENT_AND_TICK);
  const { segment, visible, file: filling } = await rowsInTheFillingSegment(api, source, planId);
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

// A gap after the UNCOMPLETED segment: log backup off (its slot dropped), the source removes the
// segment, and EnableBackupLog continues further on. The segment's partial set is WAL durable before
// the gap: the file keeps its EndTime and size, the range still ends there, and a restore reaches it.
test('a gap after the UNCOMPLETED segment keeps its partial set, its EndTime and the range ending there', async (t) => {
  const { source, api } = await startSourceAndNode(t);
  const planId = await streamingPlan(api, source, RECENT_AND_TICK);
  const { segment, visible } = await rowsInTheFillingSegment(api, source, planId);
  await api.call('DisableBackupLog', { BackupPlanId: planId });
  const ended = await waitFor(`${segment} UNCOMPLETED`, async () => {
    const f = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
    return f.BackupStatus === 'UNCOMPLETED' && f;
  }, { timeoutMs: 15000, intervalMs: 100 });
  assert.ok(ended.EndTime >= visible && ended.BackupSize > 0, JSON.stringify(ended));
  const ranges = async () => (await api.call('DescribeRestoreRangeInfo', {
    BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() + 60000,
  })).Items.DBSRecoverRange;
  assert.equal((await ranges())[0].EndTimestampForRestore, ended.EndTime);

  await waitFor('the slot dropped', async () => source.query('SELECT count(*) FROM pg_replication_slots') === '0',
    { timeoutMs: 30000, intervalMs: 100 });
  await waitFor(`${segment} removed by the source`, async () => {
    source.query('INSERT INTO tick DEFAULT VALUES; SELECT pg_switch_wal(); CHECKPOINT');
    return source.query(`SELECT count(*) FROM pg_ls_waldir() WHERE name = '${segment}'`) === '0';
  }, { timeoutMs: 30000, intervalMs: 100 });

  await api.call('EnableBackupLog', { BackupPlanId: planId });
  for (let i = 0; i < 2; i++) {  // two segments after the gap complete
    const next = await waitFor('log backup streaming after the gap', async () => {
      source.query('INSERT INTO tick DEFAULT VALUES');
      const open = (await P.logFiles(api, planId)).find((x) => x.BackupStatus === 'FILLING' && x.BackupSetId > segment);
      return open && open.BackupSetId;
    }, { timeoutMs: 30000, intervalMs: 100 });
    source.query('INSERT INTO tick DEFAULT VALUES; SELECT pg_switch_wal()');
    await waitFor(`${next} COMPLETED`, async () => (await P.logFiles(api, planId))
      .some((x) => x.BackupSetId === next && x.BackupStatus === 'COMPLETED'), { timeoutMs: 30000, intervalMs: 100 });
  }
  const kept = (await P.logFiles(api, planId)).find((x) => x.BackupSetId === segment);
  assert.equal(kept.BackupStatus, 'UNCOMPLETED');
  assert.equal(kept.EndTime, ended.EndTime);
  assert.equal(kept.BackupSize, ended.BackupSize);
  const after = await ranges();
  assert.equal(after.length, 1, JSON.stringify(after));
  assert.equal(after[0].EndTimestampForRestore, ended.EndTime);

  const restored = await restoreAndOpen(api, planId, { restoreTime: ended.EndTime });
  try {
    assert.equal(restored.query("SELECT count(*) FROM recent WHERE note = 'kept'"), '250');
  } finally {
    restored.dispose();
  }
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
});

// Restores to "now" (the end of the restorable range, inside the segment being filled) while the
// source commits every 50 ms: the partial set each restore plans is replaced by the stream within
// 500 ms, while the restore writes the full set; each restore finishes and holds exactly the rows
// committed by its RestoreTime.
test('restores to the end of the range succeed while the source writes and the partial set is replaced', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
  const planId = await streamingPlan(api, source, 'CREATE TABLE pulse (id serial PRIMARY KEY)');
  let paused = false;
  const writer = setInterval(() => { if (!paused) source.query('INSERT INTO pulse DEFAULT VALUES'); }, 50);
  t.after(() => clearInterval(writer));
  for (let k = 0; k < 3; k++) {
    // A moment between two commits (none within 10 ms of it) and the rows then.
    paused = true;
    await sleep(10);
    const at = Date.now();
    const checksum = source.checksum('pulse');
    await sleep(10);
    paused = false;
    await waitFor('the range to reach the moment', async () => {
      const ranges = (await api.call('DescribeRestoreRangeInfo', {
        BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() + 60000,
      })).Items.DBSRecoverRange;
      return ranges.length === 1 && ranges[0].EndTimestampForRestore >= at;
    }, { timeoutMs: 15000, intervalMs: 100 });
    const restored = await restoreAndOpen(api, planId, { restoreTime: at });
    try {
      assert.equal(restored.checksum('pulse'), checksum, `restore ${k} to ${at}`);
    } finally {
      restored.dispose();
    }
  }
  clearInterval(writer);
  // Whether a restore met the race here (its planned partial set replaced, the newest one read) depends
  // on timing: the C++ test PostgresPartialRestore.RestoresToNowSucceedWhileTheStreamReplacesThePlannedPartialSet
  // makes it happen every time. Here the checksums above are the assertion; the race is reported.
  const raced = node.lines.filter((l) => l.json && l.json.event === 'postgres_restore_partial_replaced').length;
  t.diagnostic(`restores that found their planned partial set replaced: ${raced} of 3`);
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
});
