// Crashes and restarts: kill -9 while a full backup and a log backup run, restart on the same data
// directory; once the lease expires the tasks are taken again and finish, exactly once. A clean
// SIGTERM hands the tasks back at once, so they resume right after the restart.
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { TestNode, waitFor } = require('./lib/node_process');
const { makeClient } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const P = require('./lib/plans');
const S = require('./lib/signing');

const LEASE_MS = 30000;  // jobs::RuntimeOptions::lease_ms (no option to change it yet)

async function startLongBackup(node, engine, clientToken) {
  const api = checked(makeClient(node, 'tea-v3'));
  const planId = await P.createConfiguredPlan(api, { configure: { engine, EnableBackupLog: true } });
  const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId, ClientToken: clientToken })).CreatedFullBackupsetId;
  await waitFor('progress and two closed log files', async () => {
    const set = await P.fullSet(api, planId, setId);
    const logs = await P.logFiles(api, planId);
    return set.BackupStatus === 'running' && set.Progress > 5 && logs.filter((l) => l.BackupStatus === 'COMPLETED').length >= 2;
  }, { timeoutMs: 15000 });
  return { planId, setId };
}

// The set restores and every byte matches the generator (the TestEngine verifies while restoring).
async function assertRestorable(api, node, planId, setId) {
  const restore = await api.call('CreateRestoreTask', {
    BackupPlanId: planId, RestoreTaskName: 'after-restart', BackupSetId: setId,
    DestinationEndpointInstanceType: 'Agent', RestoreDir: path.join(node.dataDir, `restore-${setId}`),
  });
  await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
  await waitFor('restore finish', async () => {
    const d = await P.restoreTask(api, restore.RestoreTaskId);
    if (d.RestoreStatus === 'stop') throw new Error(`restore failed: ${d.ErrMessage}`);
    return d.RestoreStatus === 'finish';
  });
}

describe('restarts', { concurrency: true }, () => {
  test('kill -9: after the lease expires the full and log backups are taken again; one set, nothing lost', async (t) => {
    const engine = { size: 10 << 20, rate: 1 << 20, logMs: 400 };  // ~10 s of full backup
    const node = await TestNode.start({ workers: 4 });
    try {
      let api = checked(makeClient(node, 'tea-v3'));
      const { planId, setId } = await startLongBackup(node, engine);
      const logsBefore = await P.logFiles(api, planId);
      const logTaskId = logsBefore[0].BackupSetJobId;

      const killedAt = Date.now();
      await node.kill9();
      await node.restart();
      api = checked(makeClient(node, 'tea-v3'));
      t.diagnostic(`restarted ${Date.now() - killedAt} ms after kill -9`);
      const gateways = await api.call('DescribeBackupGatewayList', { Region: 'cn-hangzhou' });
      assert.equal(gateways.Items.BackupGateway.find((g) => String(g.BackupGatewayId) === node.nodeId).BackupGatewayStatus, 'ONLINE');

      // Taken again: the set starts over (new StartTime) once the crashed node's lease has expired.
      const retaken = await waitFor('the full backup taken again', async () => {
        const s = await P.fullSet(api, planId, setId);
        return s.StartTime > killedAt && s;
      }, { timeoutMs: LEASE_MS + 15000, intervalMs: 250 });
      const retakenAfterMs = Date.now() - killedAt;
      t.diagnostic(`the full backup was taken again ${retakenAfterMs} ms after kill -9 (lease ${LEASE_MS} ms)`);
      assert.ok(retakenAfterMs <= LEASE_MS + 5000, `taken again within the lease (+5 s): ${retakenAfterMs} ms`);
      assert.equal(retaken.BackupStatus, 'running');

      const finished = await P.waitSetStatus(api, planId, setId, 'finish', 30000);
      assert.equal(finished.BackupDataSize, engine.size);
      const sets = await P.fullSets(api, planId);
      assert.deepEqual(sets.map((s) => s.BackupSetId), [setId], 'exactly one set for the task');
      await P.waitTaskState(api, setId, 'succeeded', 5000);
      await assertRestorable(api, node, planId, setId);

      // The log backup goes on under the same task, with files after the restart.
      await waitFor('log files after the restart', async () =>
        (await P.logFiles(api, planId)).some((l) => l.StartTime > killedAt && l.BackupStatus === 'COMPLETED'));
      const logsAfter = await P.logFiles(api, planId);
      assert.ok(logsAfter.every((l) => l.BackupSetJobId === logTaskId), 'the same log backup task resumed');
      assert.equal((await P.task(api, logTaskId)).JobState, 'running');
      const names = logsAfter.map((l) => l.BackupSetId);
      assert.equal(new Set(names).size, names.length, 'no log file listed twice');
      await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
    } finally {
      await node.dispose();
    }
  });

  test('kill -9: log files closed before the crash are kept as they were',
    async () => {
      const node = await TestNode.start({ workers: 2 });
      try {
        let api = checked(makeClient(node, 'pop-get'));
        const planId = await P.createConfiguredPlan(api, { configure: { engine: { size: 64 << 10, logMs: 300 }, EnableBackupLog: true } });
        const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        await P.waitSetStatus(api, planId, setId, 'finish');
        await waitFor('three closed log files', async () =>
          (await P.logFiles(api, planId)).filter((l) => l.BackupStatus === 'COMPLETED').length >= 3);
        const closed = (await P.logFiles(api, planId)).filter((l) => l.BackupStatus === 'COMPLETED');
        const killedAt = Date.now();
        await node.kill9();
        await node.restart();
        api = checked(makeClient(node, 'pop-get'));
        await waitFor('log files after the restart', async () =>
          (await P.logFiles(api, planId)).some((l) => l.StartTime > killedAt && l.BackupStatus === 'COMPLETED'),
        { timeoutMs: LEASE_MS + 15000, intervalMs: 500 });
        const after = await P.logFiles(api, planId);
        for (const file of closed) {
          const same = after.find((l) => l.BackupSetId === file.BackupSetId);
          assert.deepEqual(same, file, `log file ${file.BackupSetId} unchanged`);
        }
      } finally {
        await node.dispose();
      }
    });

  test('SIGTERM hands running tasks back at once: they resume right after the restart', async (t) => {
    const engine = { size: 6 << 20, rate: 1 << 20, logMs: 400 };
    const node = await TestNode.start({ workers: 4 });
    try {
      let api = checked(makeClient(node, 'pop-post', { secure: true }));
      const token = `start-before-sigterm-${Date.now()}`;
      const { planId, setId } = await startLongBackup(node, engine, token);
      const logTaskId = (await P.logFiles(api, planId))[0].BackupSetJobId;

      const stoppedAt = Date.now();
      const exit = await node.stop();
      assert.equal(exit.code, 0, `clean exit (${JSON.stringify(exit)})`);
      t.diagnostic(`SIGTERM shutdown took ${Date.now() - stoppedAt} ms`);
      assert.ok(Date.now() - stoppedAt < 5000, 'the node stops within 5 s');

      await node.restart();
      api = checked(makeClient(node, 'pop-post', { secure: true }));
      const restartedAt = Date.now();
      await waitFor('the full backup resumed', async () => (await P.fullSet(api, planId, setId)).StartTime > stoppedAt,
        { timeoutMs: 5000 });
      t.diagnostic(`resumed ${Date.now() - restartedAt} ms after the restart`);
      await waitFor('the log backup resumed', async () =>
        (await P.logFiles(api, planId)).some((l) => l.StartTime > stoppedAt), { timeoutMs: 5000 });
      assert.equal((await P.task(api, logTaskId)).JobState, 'running');
      // The ClientToken record outlives the restart: the duplicate gets the first answer, no new set.
      const duplicate = await api.call('StartBackupPlan', { BackupPlanId: planId, ClientToken: token });
      assert.equal(duplicate.CreatedFullBackupsetId, setId);

      const finished = await P.waitSetStatus(api, planId, setId, 'finish', 20000);
      assert.equal(finished.BackupDataSize, engine.size);
      assert.deepEqual((await P.fullSets(api, planId)).map((s) => s.BackupSetId), [setId]);
      await assertRestorable(api, node, planId, setId);
      await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
      await P.waitTaskState(api, logTaskId, 'cancelled', 5000);
    } finally {
      await node.dispose();
    }
  });

  // K1 (checker round 4): a node whose task did not end hung on SIGTERM for good.
  test('SIGTERM waits at most 20 s for a task that does not end, names it, and exits 1', async () => {
    const node = await TestNode.start({ workers: 2 });
    try {
      const api = checked(makeClient(node, 'tea-v3'));
      const engine = { size: 64 << 20, rate: 1 << 20, deaf: true };  // a minute, deaf to the stop
      const planId = await P.createConfiguredPlan(api, { configure: { engine } });
      const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
      await waitFor('the full backup running', async () => (await P.fullSet(api, planId, setId)).Progress > 0,
        { timeoutMs: 15000 });
      const stoppedAt = Date.now();
      const exit = await node.stop({ killAfterMs: 45000 });
      const tookMs = Date.now() - stoppedAt;
      assert.equal(exit.code, 1, `exit 1 once the wait is over (${JSON.stringify(exit)})`);
      assert.ok(tookMs >= 19000 && tookMs < 30000, `stopped after the 20 s wait: ${tookMs} ms`);
      assert.equal(node.events('task_not_ended', { TaskId: setId, Kind: 'full_backup', Plan: planId }).length, 1);
      assert.equal(node.events('node_stopped_with_tasks_running').length, 1);
    } finally {
      await node.dispose();
    }
  });

  test('a request signed before a restart cannot be replayed after it',
    async () => {
      const node = await TestNode.start({ workers: 1 });
      try {
        const { params } = S.signV1('GET', 'DescribeRegions', {}, node.root);
        const path = `/?${S.canonicalQuery(params)}`;
        assert.equal((await S.rawRequest(node, { path })).status, 200);
        await node.restart();
        const replay = await S.rawRequest(node, { path });
        assert.equal(replay.json.Code, 'SignatureNonceUsed', replay.text);
      } finally {
        await node.dispose();
      }
    });
});
