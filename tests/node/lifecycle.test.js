// The whole backup plan lifecycle, driven by every Alibaba Cloud client family over HTTP and HTTPS:
// create, configure, precheck, start, full backup, modify, log backup, restore ranges, restore,
// StopBackupPlan PLAN and ALL, resume, release. Plus the plan list, the node's own operations and
// the envelope every answer carries.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { TestNode, waitFor, sleep } = require('./lib/node_process');
const { makeClient, everyClientKind, errorCode } = require('./lib/clients');
const { checked, assertEpochMs, assertRecentMs } = require('./lib/envelope');
const { SlowRestoreDir } = require('./lib/slow_directory');
const P = require('./lib/plans');

const SMALL = { size: 1 << 20, rate: 64 << 20, logMs: 300 };  // a full backup of 1 MiB, done at once
const SLOW = { size: 16 << 20, rate: 1 << 20, logMs: 300 };   // a full backup that runs ~16 s

let node;
before(async () => { node = await TestNode.start({ workers: 40 }); });
after(async () => { await node.dispose(); });

async function expectInvalidJobId(client, action, params, id) {
  await assert.rejects(client.call(action, params), (err) => {
    assert.equal(errorCode(err), 'InvalidJobId', `${action} after release: ${err.message}`);
    assert.ok(err.message.includes(id), `the message names ${id}: ${err.message}`);
    return true;
  });
}

async function lifecycle(client) {
  const raw = client;
  const api = checked(client);

  // Create: status wait. Configure: a precheck runs as a task and passes.
  const created = await api.call('CreateBackupPlan', P.createParams());
  const planId = created.BackupPlanId;
  assert.match(planId, /^dbs[a-z0-9]{10,12}$/);
  assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'wait');
  await api.call('ConfigureBackupPlan', P.configureParams(planId, {
    engine: SMALL, BackupStrategyType: 'simple', BackupPeriod: 'Monday,Thursday', BackupStartTime: '03:00',
  }));
  const precheck = await P.waitPrecheckFinished(api, planId);
  assert.equal(precheck.Progress, 100);
  assert.ok(precheck.Items.PreCheckProgressDetail.length > 0);
  for (const item of precheck.Items.PreCheckProgressDetail) assert.equal(item.State, 'finish');
  let plan = await P.describePlan(api, planId);
  assert.equal(plan.BackupPlanStatus, 'check_pass');
  assert.equal(plan.SourceEndpointInstanceType, 'other', 'answered in lower case');
  assert.equal(plan.BackupPeriod, 'Monday,Thursday');
  assert.ok(!JSON.stringify(plan).includes('Secret-pass-1'), 'the password is never returned');
  assertEpochMs(plan.BackupPlanCreateTime, 'BackupPlanCreateTime');

  // Start: running, a full backup now, finished with size and times.
  const started = await api.call('StartBackupPlan', { BackupPlanId: planId });
  const firstSetId = started.CreatedFullBackupsetId;
  assert.match(firstSetId, /^[a-z0-9]{8,16}$/);
  assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'running');
  const firstSet = await P.waitSetStatus(api, planId, firstSetId, 'finish');
  assert.ok(firstSet.BackupSize > 0, 'BackupSize');
  assert.equal(firstSet.BackupDataSize, SMALL.size);
  for (const f of ['CreateTime', 'StartTime', 'EndTime', 'FinishTime']) assertRecentMs(firstSet[f], f);
  assert.ok(firstSet.StartTime <= firstSet.EndTime && firstSet.EndTime <= firstSet.FinishTime);
  // The set is finished first, its task record a moment later (two transactions).
  await P.waitTaskState(api, firstSetId, 'succeeded', 2000);

  // The Modify* operations record and answer at once.
  await api.call('ModifyBackupPlanName', { BackupPlanId: planId, BackupPlanName: `renamed ${planId}` });
  await api.call('ModifyBackupStrategy', { BackupPlanId: planId, BackupPeriod: 'sunday', BackupStartTime: '22:30' });
  await api.call('ModifyStorageStrategy', {
    BackupPlanId: planId, BackupRetentionPeriod: 400, DuplicationInfrequentAccessPeriod: 30, DuplicationArchivePeriod: 90,
  });
  await api.call('ModifyBackupObjects', { BackupPlanId: planId, BackupObjects: '[{"DBName":"shop"}]' });
  // The same server (host and port) with another login: the full set above still starts the log
  // chain below (another server's WAL would be a chain of its own; slot_release.test.js).
  const modified = await api.call('ModifyBackupSourceEndpoint', {
    BackupPlanId: planId, SourceEndpointInstanceType: 'Other', SourceEndpointIP: '127.0.0.1', SourceEndpointPort: 3306,
    SourceEndpointUserName: 'backup2', SourceEndpointPassword: 'Other-pass-2', SourceEndpointDatabaseName: P.engineConfig(SLOW),
  });
  assert.equal(modified.NeedPrecheck, true);
  plan = await P.describePlan(api, planId);
  assert.equal(plan.BackupPlanName, `renamed ${planId}`);
  assert.equal(plan.BackupPeriod, 'Sunday');
  assert.equal(plan.BackupStartTime, '22:30');
  assert.equal(plan.BackupRetentionPeriod, 400);
  assert.equal(plan.DuplicationInfrequentAccessPeriod, 30);
  assert.equal(plan.DuplicationArchivePeriod, 90);
  assert.equal(plan.BackupObjects, '[{"DBName":"shop"}]');
  assert.equal(plan.SourceEndpointIpPort, '127.0.0.1:3306');
  assert.equal(plan.SourceEndpointUserName, 'backup2');
  assert.equal(plan.BackupPlanStatus, 'running', 'modifying the source does not stop a running plan');
  await P.waitPrecheckFinished(api, planId);

  // Log backup: files appear, closed ones COMPLETED, all from one log task.
  await api.call('EnableBackupLog', { BackupPlanId: planId });
  const logs = await waitFor('two completed log files', async () => {
    const files = await P.logFiles(api, planId);
    return files.filter((f) => f.BackupStatus === 'COMPLETED').length >= 2 && files;
  });
  const logTaskId = logs[0].BackupSetJobId;
  for (const f of logs) {
    assert.equal(f.BackupSetJobId, logTaskId);
    assertRecentMs(f.StartTime, 'log StartTime');
    assert.ok(f.EndTime >= f.StartTime);
  }

  // The restorable range runs from the full set's consistent point along the log chain.
  const ranges = await api.call('DescribeRestoreRangeInfo', {
    BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() + 60000,
  });
  const range = ranges.Items.DBSRecoverRange[0];
  assert.equal(range.RangeType, 'range');
  assert.equal(range.BeginTimestampForRestore, firstSet.EndTime);
  assert.ok(range.EndTimestampForRestore > range.BeginTimestampForRestore);
  assert.deepEqual(range.FullBackupList.FullBackupDetail.map((s) => s.BackupSetId), [firstSetId]);

  // A point-in-time restore into a directory on the node finishes and writes the set's bytes.
  const restoreDir = path.join(node.dataDir, `restore-${planId}`);
  const restoreTime = Math.floor((range.BeginTimestampForRestore + range.EndTimestampForRestore) / 2);
  const restore = await api.call('CreateRestoreTask', {
    BackupPlanId: planId, RestoreTaskName: 'pitr', RestoreTime: restoreTime,
    DestinationEndpointInstanceType: 'Agent', RestoreDir: restoreDir,
  });
  let detail = await P.restoreTask(api, restore.RestoreTaskId);
  assert.equal(detail.RestoreStatus, 'init');
  assert.equal(detail.BackupSetId, firstSetId);
  assert.equal(detail.RestoreTime, restoreTime);
  await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
  detail = await waitFor('restore finish', async () => {
    const d = await P.restoreTask(api, restore.RestoreTaskId);
    if (d.RestoreStatus === 'stop') throw new Error(`restore failed: ${d.ErrMessage}`);
    return d.RestoreStatus === 'finish' && d;
  });
  assertRecentMs(detail.RestoreTaskFinishTime, 'RestoreTaskFinishTime');
  assert.equal(fs.statSync(path.join(restoreDir, 'data')).size, SMALL.size);
  const byPlan = await api.call('DescribeRestoreTaskList', { BackupPlanId: planId });
  assert.deepEqual(byPlan.Items.RestoreTaskDetail.map((r) => r.RestoreTaskId), [restore.RestoreTaskId]);

  // Now a long full backup, the log backup and a slow restore all run.
  const second = await api.call('StartBackupPlan', { BackupPlanId: planId });
  const slowSetId = second.CreatedFullBackupsetId;
  assert.notEqual(slowSetId, firstSetId);
  await P.waitSetStatus(api, planId, slowSetId, 'running');
  const slowDir = new SlowRestoreDir(path.join(node.dataDir, `slow-restore-${planId}`));
  try {
    const slowRestore = await api.call('CreateRestoreTask', {
      BackupPlanId: planId, RestoreTaskName: 'slow', BackupSetId: firstSetId,
      DestinationEndpointInstanceType: 'Agent', RestoreDir: slowDir.dir,
    });
    const slowRestoreId = slowRestore.RestoreTaskId;
    await api.call('StartRestoreTask', { RestoreTaskId: slowRestoreId });
    await waitFor('slow restore writing', () => slowDir.received > 0);

    // PLAN: the schedule pauses; the full backup, the log backup and the restore go on.
    await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'PLAN' });
    assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'pause');
    const before = (await P.fullSet(api, planId, slowSetId)).Progress;
    await sleep(2000);
    const during = await P.fullSet(api, planId, slowSetId);
    assert.equal(during.BackupStatus, 'running');
    assert.ok(during.Progress > before, `progress goes on after PLAN (${before} → ${during.Progress})`);
    assert.equal((await P.task(api, logTaskId)).JobState, 'running');
    assert.equal((await P.restoreTask(api, slowRestoreId)).RestoreStatus, 'running');
    const logCountAtPlanStop = (await P.logFiles(api, planId)).length;

    // ALL: every running task of the plan is cancelled within 5 s, recorded with the request id.
    const stoppedAt = Date.now();
    const stop = await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
    slowDir.drainFully();
    const cancelled = await Promise.all([slowSetId, logTaskId, slowRestoreId].map((id) =>
      P.waitTaskState(api, id, 'cancelled', 5000)));
    assert.ok(Date.now() - stoppedAt <= 5500, `cancelled in ${Date.now() - stoppedAt} ms`);
    for (const t of cancelled) assert.ok(t.ErrorMessage.includes(stop.RequestId), `task ${t.JobId}: ${t.ErrorMessage}`);
    const stoppedSet = await P.fullSet(api, planId, slowSetId);
    assert.equal(stoppedSet.BackupStatus, 'stop');
    assert.ok(stoppedSet.ErrMessage.includes(stop.RequestId), stoppedSet.ErrMessage);
    const stoppedRestore = await P.restoreTask(api, slowRestoreId);
    assert.equal(stoppedRestore.RestoreStatus, 'stop');
    assert.ok(stoppedRestore.ErrMessage.includes(stop.RequestId), stoppedRestore.ErrMessage);
    assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'pause');
    assert.ok((await P.logFiles(api, planId)).length >= logCountAtPlanStop);
  } finally {
    slowDir.close();
  }

  // Start resumes: running, a new full backup, a new log backup task.
  const resumed = await api.call('StartBackupPlan', { BackupPlanId: planId });
  assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'running');
  await P.waitSetStatus(api, planId, resumed.CreatedFullBackupsetId, 'running');
  await waitFor('a log file of a new log task', async () =>
    (await P.logFiles(api, planId)).some((f) => f.BackupSetJobId !== logTaskId));
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
  await P.waitTaskState(api, resumed.CreatedFullBackupsetId, 'cancelled', 5000);

  // Stopping a paused plan (with nothing running any more) changes nothing.
  await sleep(300);
  const snapshot = async () => JSON.stringify([
    await P.describePlan(api, planId), await P.fullSets(api, planId), await P.logFiles(api, planId),
    (await api.call('DescribeRestoreTaskList', { BackupPlanId: planId })).Items,
  ]);
  const beforeStops = await snapshot();
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'PLAN' });
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
  assert.equal(await snapshot(), beforeStops);

  // Billing answers the real storage figures of the finished sets and the log files.
  const sets = await P.fullSets(api, planId);
  const files = await P.logFiles(api, planId);
  const billing = (await api.call('DescribeBackupPlanBilling', { BackupPlanId: planId })).Item;
  const finishedBytes = sets.filter((s) => s.BackupStatus === 'finish').reduce((a, s) => a + s.BackupSize, 0);
  assert.equal(billing.FullStorageSize, finishedBytes);
  assert.equal(billing.UsedFullBytes, finishedBytes);
  assert.equal(billing.ContStorageSize, files.reduce((a, f) => a + f.BackupSize, 0));
  assert.ok(billing.ContStorageSize > 0);

  // Release: gone from the list; every later call is InvalidJobId naming the plan.
  await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  const listed = await api.call('DescribeBackupPlanList', { BackupPlanId: planId });
  assert.equal(listed.TotalElements, 0);
  assert.deepEqual(listed.Items.BackupPlanDetail, []);
  await expectInvalidJobId(raw, 'StartBackupPlan', { BackupPlanId: planId }, planId);
  await expectInvalidJobId(raw, 'DescribeFullBackupList', { BackupPlanId: planId }, planId);
  await expectInvalidJobId(raw, 'ReleaseBackupPlan', { BackupPlanId: planId }, planId);
}

describe('the plan lifecycle with every client', { concurrency: true }, () => {
  for (const kind of everyClientKind()) {
    test(`${kind.family} over ${kind.secure ? 'HTTPS' : 'HTTP'}`, async () => {
      const client = makeClient(node, kind.family, { secure: kind.secure });
      try {
        await lifecycle(client);
      } finally {
        client.close();
      }
    });
  }
});

describe('plan list and node operations', () => {
  test('DescribeBackupPlanList filters by id, name, status and method, and pages from 0', async () => {
    const api = checked(makeClient(node, 'tea-v3'));
    const group = `rg-${Date.now()}`;
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const c = await api.call('CreateBackupPlan', P.createParams({ ResourceGroupId: group, BackupMethod: i < 2 ? 'physical' : 'logical' }));
      ids.push(c.BackupPlanId);
    }
    await api.call('ConfigureBackupPlan', P.configureParams(ids[0], { BackupPlanName: `named-${group}` }));
    await P.waitPrecheckFinished(api, ids[0]);

    const all = await api.call('DescribeBackupPlanList', { ResourceGroupId: group });
    assert.equal(all.TotalElements, 5);
    assert.equal(all.PageNum, 0);
    assert.equal(all.PageSize, 30);
    assert.deepEqual(all.Items.BackupPlanDetail.map((p) => p.BackupPlanId).sort(), [...ids].sort());

    const seen = [];
    for (let page = 0; page < 3; page++) {
      const r = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, PageSize: 2, PageNum: page });
      assert.equal(r.PageNum, page);
      assert.equal(r.TotalElements, 5);
      assert.equal(r.TotalPages, 3);
      assert.equal(r.Items.BackupPlanDetail.length, page < 2 ? 2 : 1);
      seen.push(...r.Items.BackupPlanDetail.map((p) => p.BackupPlanId));
    }
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'pages are disjoint and cover every plan');
    const beyond = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, PageSize: 2, PageNum: 3 });
    assert.deepEqual(beyond.Items.BackupPlanDetail, []);

    const two = await api.call('DescribeBackupPlanList', { BackupPlanId: `${ids[1]},${ids[3]}` });
    assert.deepEqual(two.Items.BackupPlanDetail.map((p) => p.BackupPlanId).sort(), [ids[1], ids[3]].sort());
    const byName = await api.call('DescribeBackupPlanList', { BackupPlanName: `named-${group}` });
    assert.deepEqual(byName.Items.BackupPlanDetail.map((p) => p.BackupPlanId), [ids[0]]);
    const waiting = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, BackupPlanStatus: 'wait' });
    assert.deepEqual(waiting.Items.BackupPlanDetail.map((p) => p.BackupPlanId).sort(), ids.slice(1).sort());
    const physical = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, BackupMethod: 'physical' });
    assert.deepEqual(physical.Items.BackupPlanDetail.map((p) => p.BackupPlanId).sort(), ids.slice(0, 2).sort());
    const region = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, Region: 'cn-hangzhou' });
    assert.equal(region.TotalElements, 5);
    const otherRegion = await api.call('DescribeBackupPlanList', { ResourceGroupId: group, Region: 'eu-west-1' });
    assert.equal(otherRegion.TotalElements, 0);
  });

  test('the Show* flags add strategy, storage and restore-window details', async () => {
    const api = checked(makeClient(node, 'pop-post'));
    const planId = await P.createConfiguredPlan(api, { configure: { engine: SMALL, BackupLogIntervalSeconds: 600 } });
    await api.call('ModifyStorageStrategy', {
      BackupPlanId: planId, BackupRetentionPeriod: 30, DuplicationInfrequentAccessPeriod: 10, DuplicationArchivePeriod: 20,
      LogBackupRetentionPeriod: '7',
    });
    const started = await api.call('StartBackupPlan', { BackupPlanId: planId });
    const set = await P.waitSetStatus(api, planId, started.CreatedFullBackupsetId, 'finish');

    const plain = await P.describePlan(api, planId);
    assert.ok(!('BackupLogIntervalSeconds' in plain));
    assert.ok(!('LogBackupRetentionPeriod' in plain));
    assert.equal(plain.BeginTimestampForRestore, 0);
    const shown = await P.describePlan(api, planId, {
      ShowBackupStrategyInfo: true, ShowStorageStrategyInfo: true, ShowRecoverTimeRange: true,
    });
    assert.equal(shown.BackupLogIntervalSeconds, 600);
    assert.equal(shown.LogBackupRetentionPeriod, '7');
    assert.equal(shown.BeginTimestampForRestore, set.EndTime);
    assert.equal(shown.EndTimestampForRestore, set.EndTime);
    await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  });

  test('DescribeRegions, DescribeBackupGatewayList (this node, ONLINE), DescribeNodeCidrList', async () => {
    const api = checked(makeClient(node, 'pop-get', { secure: true }));
    const regions = await api.call('DescribeRegions', {});
    assert.deepEqual(regions.Regions.RegionCode, ['cn-hangzhou']);

    const gateways = await api.call('DescribeBackupGatewayList', { Region: 'cn-hangzhou' });
    const me = gateways.Items.BackupGateway.find((g) => String(g.BackupGatewayId) === node.nodeId);
    assert.ok(me, `this node ${node.nodeId} is listed`);
    assert.equal(me.BackupGatewayStatus, 'ONLINE');
    assertRecentMs(me.LastHeartbeatTime, 'LastHeartbeatTime', 10000);
    assertEpochMs(me.BackupGatewayCreateTime, 'BackupGatewayCreateTime');
    assert.equal(gateways.PageNum, 0);
    const byIdentifier = await api.call('DescribeBackupGatewayList', { Region: 'cn-hangzhou', Identifier: me.Identifier });
    assert.equal(byIdentifier.Items.BackupGateway.length, 1);
    const none = await api.call('DescribeBackupGatewayList', { Region: 'cn-hangzhou', Identifier: 'no-such-node' });
    assert.equal(none.Items.BackupGateway.length, 0);

    const cidr = await api.call('DescribeNodeCidrList', { Region: 'cn-hangzhou' });
    assert.ok(cidr.IntranetIPs.IntranetIP.includes('127.0.0.1/32'), JSON.stringify(cidr));
    for (const ip of cidr.IntranetIPs.IntranetIP) assert.match(ip, /^\d+\.\d+\.\d+\.\d+\/32$/);
    assert.ok(Array.isArray(cidr.InternetIPs.InternetIP));
  });

  test('after ReleaseBackupPlan its restore tasks are gone from DescribeRestoreTaskList',
    async () => {
      const api = checked(makeClient(node, 'tea-v3'));
      const planId = await P.createConfiguredPlan(api, { configure: { engine: SMALL } });
      const setId = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
      await P.waitSetStatus(api, planId, setId, 'finish');
      const restore = await api.call('CreateRestoreTask', {
        BackupPlanId: planId, RestoreTaskName: 'orphan', BackupSetId: setId,
        DestinationEndpointInstanceType: 'Agent', RestoreDir: path.join(node.dataDir, `orphan-${planId}`),
      });
      await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
      const listed = await api.call('DescribeRestoreTaskList', { RestoreTaskId: restore.RestoreTaskId });
      assert.deepEqual(listed.Items.RestoreTaskDetail, []);
    });

  test('a stopped log backup leaves no log file FILLING',
    async () => {
      const api = checked(makeClient(node, 'tea-v3'));
      const planId = await P.createConfiguredPlan(api, { configure: { engine: { ...SMALL, logMs: 5000 }, EnableBackupLog: true } });
      await api.call('StartBackupPlan', { BackupPlanId: planId });
      await waitFor('an open log file', async () => (await P.logFiles(api, planId)).some((f) => f.BackupStatus === 'FILLING'));
      const logTaskId = (await P.logFiles(api, planId))[0].BackupSetJobId;
      await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
      await P.waitTaskState(api, logTaskId, 'cancelled', 5000);
      const files = await P.logFiles(api, planId);
      assert.deepEqual(files.filter((f) => f.BackupStatus === 'FILLING').map((f) => f.BackupSetId), []);
    });

  test('DescribeJobErrorCode shows the state and error of a failed backup', async () => {
    const api = checked(makeClient(node, 'tea-v1', { secure: true }));
    const created = await api.call('CreateBackupPlan', P.createParams());
    const planId = created.BackupPlanId;
    await api.call('ConfigureBackupPlan', P.configureParams(planId, { SourceEndpointIP: 'unreachable.invalid' }));
    const failed = await waitFor('precheck failed', async () => {
      const r = await api.call('DescribePreCheckProgressList', { BackupPlanId: planId });
      return r.Status === 'failed' && r;
    });
    const item = failed.Items.PreCheckProgressDetail.find((i) => i.State === 'failed');
    assert.ok(item.ErrMsg.includes('unreachable.invalid'), item.ErrMsg);
    const plan = await P.describePlan(api, planId);
    assert.equal(plan.BackupPlanStatus, 'init');
    assert.ok(plan.ErrMessage.includes('precheck failed'), plan.ErrMessage);

    // Started anyway, the full backup fails and its job says why.
    const started = await api.call('StartBackupPlan', { BackupPlanId: planId });
    const job = await P.waitTaskState(api, started.CreatedFullBackupsetId, 'failed');
    assert.equal(job.JobType, 'full_backup');
    assert.equal(job.ErrorCode, 'SourceUnreachable');
    assert.ok(job.ErrorMessage.includes('unreachable.invalid'), job.ErrorMessage);
    const set = await P.fullSet(api, planId, started.CreatedFullBackupsetId);
    assert.equal(set.BackupStatus, 'failed');
    await expectInvalidJobId(makeClient(node, 'tea-v1'), 'DescribeJobErrorCode', { TaskId: 'nosuchjob123' }, 'nosuchjob123');
    await api.call('ReleaseBackupPlan', { BackupPlanId: planId });
  });
});

describe('StopBackupPlan ALL with tasks still queued', () => {
  test('queued full backups and restores end as stop, not left init/running',
    async () => {
      const busy = await TestNode.start({ workers: 1 });
      try {
        const api = checked(makeClient(busy, 'tea-v3'));
        const planId = await P.createConfiguredPlan(api, { configure: { engine: { size: 256 << 10 } } });
        const base = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        await P.waitSetStatus(api, planId, base, 'finish');
        await api.call('ModifyBackupSourceEndpoint', {
          BackupPlanId: planId, SourceEndpointInstanceType: 'Other', SourceEndpointIP: '127.0.0.1', SourceEndpointPort: 3306,
          SourceEndpointUserName: 'u', SourceEndpointPassword: 'p', SourceEndpointDatabaseName: P.engineConfig(SLOW),
        });
        await P.waitPrecheckFinished(api, planId);
        // The only worker runs this backup; the next backup and a restore wait in the queue.
        const running = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        await P.waitSetStatus(api, planId, running, 'running');
        const queued = (await api.call('StartBackupPlan', { BackupPlanId: planId })).CreatedFullBackupsetId;
        const restore = await api.call('CreateRestoreTask', {
          BackupPlanId: planId, RestoreTaskName: 'queued', BackupSetId: base,
          DestinationEndpointInstanceType: 'Agent', RestoreDir: path.join(busy.dataDir, 'queued-restore'),
        });
        await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
        assert.equal((await P.task(api, queued)).JobState, 'queued');

        const stop = await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
        for (const id of [running, queued, restore.RestoreTaskId]) await P.waitTaskState(api, id, 'cancelled', 5000);
        await P.waitSetStatus(api, planId, running, 'stop', 5000);
        const queuedSet = await P.fullSet(api, planId, queued);
        assert.equal(queuedSet.BackupStatus, 'stop', 'the queued set is stopped');
        assert.ok(queuedSet.ErrMessage.includes(stop.RequestId), queuedSet.ErrMessage);
        const restoreDetail = await P.restoreTask(api, restore.RestoreTaskId);
        assert.equal(restoreDetail.RestoreStatus, 'stop', 'the queued restore is stopped');
        assert.ok(restoreDetail.ErrMessage.includes(stop.RequestId), restoreDetail.ErrMessage);
      } finally {
        await busy.dispose();
      }
    });
});
