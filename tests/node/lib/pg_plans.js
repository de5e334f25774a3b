// PostgreSQL plans through the node, shared by the PostgreSQL suites: a configured physical plan for a
// PgSource, a logical plan of one database with its first finished full set, and a restore (a set, or
// a moment) into a new directory that a server is then started on.
'use strict';

const { TestNode, waitFor } = require('./node_process');
const { makeClient } = require('./clients');
const { checked } = require('./envelope');
const { PgSource } = require('./pg_source');
const P = require('./plans');

// A new PostgreSQL source and a node with two workers, both disposed of when test `t` ends, and a
// client of the node whose calls fail on an error envelope.
// nodeEnv: extra environment of the node (e.g. OPENDBS_SLOT_WATCH_INTERVAL_MS).
async function startSourceAndNode(t, nodeEnv = {}) {
  const source = await PgSource.create();
  const node = await TestNode.start({ workers: 2, env: nodeEnv });
  t.after(async () => {
    await node.dispose();
    source.dispose();
  });
  return { source, node, api: checked(makeClient(node, 'pop-post')) };
}

async function createPgPlan(api, source, { EnableBackupLog }) {
  return P.createConfiguredPlan(api, {
    create: { BackupMethod: 'physical', DatabaseType: 'PostgreSQL' },
    configure: { SourceEndpointPort: source.port, SourceEndpointUserName: 'postgres', SourceEndpointDatabaseName: 'postgres',
      EnableBackupLog },
  });
}

// CreateAndStartBackupPlan of a manual logical plan of `database` on the server at `port` (trust
// authentication), then its first full backup; resolves to { planId, set } once the set is finished.
async function backUpLogically(api, { port, database, name }) {
  const created = await api.call('CreateAndStartBackupPlan', {
    BackupMethod: 'logical', DatabaseType: 'PostgreSQL', InstanceClass: 'small', BackupPlanName: name,
    BackupStrategyType: 'manual', SourceEndpointInstanceType: 'Other', SourceEndpointIP: '127.0.0.1',
    SourceEndpointPort: port, SourceEndpointDatabaseName: database, SourceEndpointUserName: 'postgres',
    SourceEndpointPassword: 'unused-with-trust', BackupObjects: JSON.stringify([{ DBName: database }]),
  });
  const planId = created.BackupPlanId;
  const set = await waitFor(`the first full backup of ${database}`, async () => {
    const sets = await P.fullSets(api, planId);
    if (sets.some((s) => s.BackupStatus === 'failed')) throw new Error(`backup failed: ${JSON.stringify(sets)}`);
    return sets.find((s) => s.BackupStatus === 'finish');
  }, { timeoutMs: 60000, intervalMs: 200 });
  return { planId, set };
}

// Restores the plan (a set, or the moment `restoreTime`) into a new directory, starts PostgreSQL on it.
async function restoreAndOpen(api, planId, { setId, restoreTime }) {
  const dir = PgSource.restoreTarget();
  const params = { BackupPlanId: planId, RestoreTaskName: `r${Date.now()}`, DestinationEndpointInstanceType: 'Agent', RestoreDir: dir };
  if (setId) params.BackupSetId = setId;
  if (restoreTime) params.RestoreTime = restoreTime;
  const restore = await api.call('CreateRestoreTask', params);
  await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
  await waitFor('restore finish', async () => {
    const d = await P.restoreTask(api, restore.RestoreTaskId);
    if (d.RestoreStatus === 'stop') throw new Error(`restore failed: ${d.ErrMessage}`);
    return d.RestoreStatus === 'finish';
  }, { timeoutMs: 120000, intervalMs: 250 });
  return PgSource.open(dir);
}

module.exports = { startSourceAndNode, createPgPlan, backUpLogically, restoreAndOpen };
