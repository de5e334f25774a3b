// PostgreSQL plans through the node, shared by the PostgreSQL suites: a configured physical plan for a
// PgSource, and a restore of it (a set, or a moment) into a new directory that a server is then
// started on.
'use strict';

const { waitFor } = require('./node_process');
const { PgSource } = require('./pg_source');
const P = require('./plans');

async function createPgPlan(api, source, { EnableBackupLog }) {
  return P.createConfiguredPlan(api, {
    create: { BackupMethod: 'physical', DatabaseType: 'PostgreSQL' },
    configure: { SourceEndpointPort: source.port, SourceEndpointUserName: 'postgres', SourceEndpointDatabaseName: 'postgres',
      EnableBackupLog },
  });
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

module.exports = { createPgPlan, restoreAndOpen };
