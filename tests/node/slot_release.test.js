// The replication slot of a plan with log backup is dropped however the plan ends (real PostgreSQL 15
// sources behind a real node): ReleaseBackupPlan while the source is down is retried — across a
// restart of the node — until the source is back and the slot is gone; ModifyBackupSourceEndpoint to
// another server drops the old server's slot and streams the new server's WAL through a slot there.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { waitFor, sleep } = require('./lib/node_process');
const { PgSource } = require('./lib/pg_source');
const P = require('./lib/plans');
const { startSourceAndNode, createPgPlan, restoreAndOpen } = require('./lib/pg_plans');

// The plan's slot; after a change to another server, generation `g` has one of its own.
const slotOf = (planId, g = 0) => `opendbs_${planId.toLowerCase()}${g ? `_g${g}` : ''}`;
// 't' / 'f' while the slot exists (active or not), '' once it is gone.
const slotActive = (source, planId, g = 0) =>
  source.query(`SELECT active FROM pg_replication_slots WHERE slot_name = '${slotOf(planId, g)}'`);

async function planStreaming(api, source) {
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, setId, 'finish', 120000);
  await waitFor('the slot streaming', async () => slotActive(source, planId) === 't', { timeoutMs: 30000 });
  return planId;
}

test('ReleaseBackupPlan while the source is down drops the slot once it is back, across a node restart', async (t) => {
  // The slot watch, which /metrics' pending releases come from, passes every 500 ms.
  const { source, node, api } = await startSourceAndNode(t, { OPENDBS_SLOT_WATCH_INTERVAL_MS: '500' });
  const planId = await planStreaming(api, source);
  source.stop();
  await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  await waitFor('two failed releases', async () => node.events('log_release_failed', { plan: planId }).length >= 2,
    { timeoutMs: 20000, intervalMs: 200 });
  const failure = node.events('log_release_failed', { plan: planId })[0];
  assert.match(failure.error, new RegExp(`SELECT pg_drop_replication_slot\\('${slotOf(planId)}'\\)`));
  assert.equal(failure.plan_released, true);

  await node.restart();  // the release is handed back to the queue and taken up again
  await waitFor('a failed release after the restart',
    async () => node.events('log_release_failed', { plan: planId }).length >= 3, { timeoutMs: 20000, intervalMs: 200 });
  // /metrics counts the failed attempts, those before the restart too, until the release is done.
  const pendingSeries = `opendbs_log_slot_release_pending{plan="${planId}",source="127.0.0.1:${source.port}"}`;
  await waitFor('the pending release in /metrics', async () => (await node.metric(pendingSeries)) >= 3,
    { timeoutMs: 20000, intervalMs: 200 });
  await source.start();
  await waitFor('the slot dropped', async () => slotActive(source, planId) === '', { timeoutMs: 40000, intervalMs: 250 });
  await waitFor('the release logged', async () => node.events('log_released', { plan: planId }).length === 1);
  await waitFor('the release done in /metrics', async () => (await node.metric(pendingSeries)) === 0,
    { timeoutMs: 20000, intervalMs: 200 });
});

test('ModifyBackupSourceEndpoint to another server drops the old slot and streams from the new one', async (t) => {
  const { source: a, api } = await startSourceAndNode(t);
  const b = await PgSource.create();
  t.after(() => b.dispose());
  // A new cluster: its WAL file names repeat those the plan stored of the old one.
  const planId = await planStreaming(api, a);
  const aIpPort = `127.0.0.1:${a.port}`;
  a.query('SELECT pg_switch_wal() FROM (SELECT txid_current()) x');
  await waitFor('a COMPLETED file of the old server', async () =>
    (await P.logFiles(api, planId)).some((f) => f.BackupStatus === 'COMPLETED'), { timeoutMs: 30000, intervalMs: 250 });
  const oldFiles = (await P.logFiles(api, planId)).filter((f) => f.BackupStatus === 'COMPLETED');

  await api.call('ModifyBackupSourceEndpoint', {
    BackupPlanId: planId, SourceEndpointInstanceType: 'Other', SourceEndpointIP: '127.0.0.1', SourceEndpointPort: b.port,
    SourceEndpointUserName: 'postgres', SourceEndpointPassword: 'unused-with-trust', SourceEndpointDatabaseName: 'postgres',
  });
  await waitFor('the old slot dropped', async () => slotActive(a, planId) === '', { timeoutMs: 30000, intervalMs: 250 });
  await waitFor('a slot of its own streaming on the new server', async () => slotActive(b, planId, 1) === 't',
    { timeoutMs: 30000, intervalMs: 250 });
  const bIpPort = `127.0.0.1:${b.port}`;
  await waitFor('WAL of the new server listed', async () => {
    b.query('SELECT pg_switch_wal() FROM (SELECT txid_current()) x');
    return (await P.logFiles(api, planId)).some((f) => f.SourceEndpointIpPort === bIpPort && f.BackupStatus === 'COMPLETED');
  }, { timeoutMs: 30000, intervalMs: 500 });
  assert.equal((await P.describePlan(api, planId)).SourceEndpointIpPort, bIpPort);
  // The old server's files are still listed as they were, beside the new server's of the same names.
  const listed = await P.logFiles(api, planId);
  for (const f of oldFiles)
    assert.ok(listed.some((x) => x.BackupSetId === f.BackupSetId && x.SourceEndpointIpPort === aIpPort &&
      x.EndTime === f.EndTime && x.BackupStatus === 'COMPLETED'), `${f.BackupSetId} of the old server kept`);

  // The new server's chain: its own full set, then WAL; a restore to a moment in it has its data.
  b.query('CREATE TABLE on_b (id int)');
  const setB = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, setB, 'finish', 120000);
  b.query('INSERT INTO on_b SELECT generate_series(1, 42)');
  const mark = Date.now();
  await waitFor('the new server\'s WAL past the insert', async () => {
    b.query('SELECT pg_switch_wal() FROM (SELECT txid_current()) x');
    return (await P.logFiles(api, planId)).some((f) => f.SourceEndpointIpPort === bIpPort && f.EndTime >= mark);
  }, { timeoutMs: 30000, intervalMs: 500 });
  const restored = await restoreAndOpen(api, planId, { restoreTime: mark });
  try {
    assert.equal(restored.query('SELECT count(*) FROM on_b'), '42');
  } finally {
    restored.dispose();
  }

  await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  await waitFor('the new slot dropped', async () => slotActive(b, planId, 1) === '', { timeoutMs: 30000, intervalMs: 250 });
  await sleep(500);
  assert.equal(slotActive(a, planId), '', 'the old server has no slot again');
});
