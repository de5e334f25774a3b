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
const { startSourceAndNode, createPgPlan } = require('./lib/pg_plans');

const slotOf = (planId) => `opendbs_${planId.toLowerCase()}`;
// 't' / 'f' while the slot exists (active or not), '' once it is gone.
const slotActive = (source, planId) =>
  source.query(`SELECT active FROM pg_replication_slots WHERE slot_name = '${slotOf(planId)}'`);

async function planStreaming(api, source) {
  const planId = await createPgPlan(api, source, { EnableBackupLog: true });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
  await P.waitSetStatus(api, planId, setId, 'finish', 120000);
  await waitFor('the slot streaming', async () => slotActive(source, planId) === 't', { timeoutMs: 30000 });
  return planId;
}

test('ReleaseBackupPlan while the source is down drops the slot once it is back, across a node restart', async (t) => {
  const { source, node, api } = await startSourceAndNode(t);
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
  await source.start();
  await waitFor('the slot dropped', async () => slotActive(source, planId) === '', { timeoutMs: 40000, intervalMs: 250 });
  assert.equal(node.events('log_released', { plan: planId }).length, 1);
});

test('ModifyBackupSourceEndpoint to another server drops the old slot and streams from the new one', async (t) => {
  const { source: a, api } = await startSourceAndNode(t);
  const b = await PgSource.create();
  t.after(() => b.dispose());
  // The new server is ahead of the old one's stored WAL.
  for (let i = 0; i < 4; i++) b.query('SELECT pg_switch_wal() FROM (SELECT txid_current()) x');
  const planId = await planStreaming(api, a);

  await api.call('ModifyBackupSourceEndpoint', {
    BackupPlanId: planId, SourceEndpointInstanceType: 'Other', SourceEndpointIP: '127.0.0.1', SourceEndpointPort: b.port,
    SourceEndpointUserName: 'postgres', SourceEndpointPassword: 'unused-with-trust', SourceEndpointDatabaseName: 'postgres',
  });
  await waitFor('the old slot dropped', async () => slotActive(a, planId) === '', { timeoutMs: 30000, intervalMs: 250 });
  await waitFor('a slot streaming on the new server', async () => slotActive(b, planId) === 't',
    { timeoutMs: 30000, intervalMs: 250 });
  const bIpPort = `127.0.0.1:${b.port}`;
  await waitFor('WAL of the new server listed', async () => {
    b.query('SELECT pg_switch_wal() FROM (SELECT txid_current()) x');
    return (await P.logFiles(api, planId)).some((f) => f.SourceEndpointIpPort === bIpPort && f.BackupStatus === 'COMPLETED');
  }, { timeoutMs: 30000, intervalMs: 500 });
  assert.equal((await P.describePlan(api, planId)).SourceEndpointIpPort, bIpPort);

  await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  await waitFor('the new slot dropped', async () => slotActive(b, planId) === '', { timeoutMs: 30000, intervalMs: 250 });
  await sleep(500);
  assert.equal(slotActive(a, planId), '', 'the old server has no slot again');
});
