// Plan fixtures and waits shared by the suites. Plans use the TestEngine of opendbs-test-node: the
// SourceEndpointDatabaseName "size=BYTES;rate=BYTES_PER_SECOND;log_ms=MS" shapes its backups.
'use strict';

const { waitFor } = require('./node_process');

// The engine configuration string for SourceEndpointDatabaseName (`deaf`: a full backup that does not
// hear a cancellation, tests/engines/test_engine.h).
function engineConfig({ size = 256 * 1024, rate = 64 << 20, logMs = 300, deaf = false } = {}) {
  return `size=${size};rate=${rate};log_ms=${logMs}${deaf ? ';deaf=1' : ''}`;
}

function createParams(overrides = {}) {
  return { BackupMethod: 'logical', DatabaseType: 'MySQL', InstanceClass: 'small', ...overrides };
}

function configureParams(planId, overrides = {}) {
  const { engine, ...rest } = overrides;
  return {
    BackupPlanId: planId,
    BackupPlanName: `plan-${planId}`,
    SourceEndpointInstanceType: 'Other',
    SourceEndpointIP: '127.0.0.1',
    SourceEndpointPort: 3306,
    SourceEndpointUserName: 'backup',
    SourceEndpointPassword: 'Secret-pass-1',
    SourceEndpointDatabaseName: engineConfig(engine),
    BackupStrategyType: 'manual',
    ...rest,
  };
}

// CreateBackupPlan + ConfigureBackupPlan; waits for the precheck to pass. Returns the plan id.
async function createConfiguredPlan(client, { create = {}, configure = {}, waitPrecheck = true } = {}) {
  const created = await client.call('CreateBackupPlan', createParams(create));
  const planId = created.BackupPlanId;
  await client.call('ConfigureBackupPlan', configureParams(planId, configure));
  if (waitPrecheck) await waitPrecheckFinished(client, planId);
  return planId;
}

async function waitPrecheckFinished(client, planId) {
  return waitFor(`precheck of ${planId}`, async () => {
    const r = await client.call('DescribePreCheckProgressList', { BackupPlanId: planId });
    if (r.Status === 'failed') throw new Error(`precheck failed: ${JSON.stringify(r.Items)}`);
    return r.Status === 'finish' && r;
  });
}

async function describePlan(client, planId, extra = {}) {
  const r = await client.call('DescribeBackupPlanList', { BackupPlanId: planId, ...extra });
  const items = r.Items.BackupPlanDetail;
  if (items.length !== 1) throw new Error(`expected plan ${planId} once in the list, got ${items.length}`);
  return items[0];
}

async function fullSets(client, planId, extra = {}) {
  const r = await client.call('DescribeFullBackupList', { BackupPlanId: planId, PageSize: 100, ...extra });
  return r.Items.FullBackupFile;
}

async function fullSet(client, planId, setId) {
  const sets = await fullSets(client, planId, { BackupSetId: setId, ShowProgress: 'true' });
  if (sets.length !== 1) throw new Error(`expected set ${setId} once, got ${sets.length}`);
  return sets[0];
}

// Waits until the set has `status` (throws early if it ends in another final status).
async function waitSetStatus(client, planId, setId, status, timeoutMs = 30000) {
  return waitFor(`set ${setId} ${status}`, async () => {
    const s = await fullSet(client, planId, setId);
    if (s.BackupStatus === status) return s;
    if (['finish', 'failed', 'stop'].includes(s.BackupStatus))
      throw new Error(`set ${setId} ended ${s.BackupStatus}: ${s.ErrMessage}`);
    return null;
  }, { timeoutMs, intervalMs: 100 });
}

async function logFiles(client, planId) {
  const r = await client.call('DescribeIncrementBackupList', { BackupPlanId: planId, PageSize: 100 });
  return r.Items.IncrementBackupFile;
}

// DescribeJobErrorCode's view of a task: {JobId, JobType, JobState, ErrorCode, ErrorMessage}.
async function task(client, taskId) {
  return (await client.call('DescribeJobErrorCode', { TaskId: taskId })).Item;
}

async function waitTaskState(client, taskId, state, timeoutMs = 15000) {
  return waitFor(`task ${taskId} ${state}`, async () => {
    const t = await task(client, taskId);
    return t.JobState === state && t;
  }, { timeoutMs });
}

async function restoreTask(client, restoreId) {
  const r = await client.call('DescribeRestoreTaskList', { RestoreTaskId: restoreId });
  return r.Items.RestoreTaskDetail[0];
}

// Waits until the download task finished (throws if it stopped); resolves to its
// DescribeBackupSetDownloadTaskList entry.
async function waitDownloadFinished(client, taskId, timeoutMs = 60000) {
  return waitFor(`download ${taskId}`, async () => {
    const d = (await client.call('DescribeBackupSetDownloadTaskList', { BackupSetDownloadTaskId: taskId }))
      .Items.BackupSetDownloadTaskDetail[0];
    if (d.BackupSetDownloadStatus === 'stop') throw new Error(`download stopped: ${d.ErrMessage}`);
    return d.BackupSetDownloadStatus === 'finish' && d;
  }, { timeoutMs, intervalMs: 200 });
}

module.exports = {
  engineConfig, createParams, configureParams, createConfiguredPlan, waitPrecheckFinished, describePlan,
  fullSets, fullSet, waitSetStatus, logFiles, task, waitTaskState, restoreTask, waitDownloadFinished,
};
