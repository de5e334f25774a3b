// The node prunes its repository itself (docs/OPERATIONS.md, Reclaiming space): the packs a stopped
// full backup left behind are deleted once a pass gets the repository, passes while a backup writes
// are skipped without harm, and the set that stays still restores byte for byte.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { TestNode, waitFor, metricValue: metric } = require('./lib/node_process');
const { makeClient } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const P = require('./lib/plans');


// The repository's pack files on disk.
function packFiles(node) {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(node.dataDir, 'repository', 'data'));
  return files;
}

// Bytes of the repository's packs on disk.
function packBytes(node) {
  return packFiles(node).reduce((total, p) => total + fs.statSync(p).size, 0);
}

test('the packs of a stopped full backup are pruned; passes during the backup are skipped; the kept set restores', async (t) => {
  const node = await TestNode.start({ workers: 4, env: { OPENDBS_PRUNE_INTERVAL: '1s', OPENDBS_PRUNE_RETRY: '300ms' } });
  try {
    const api = checked(makeClient(node, 'tea-v3'));
    const keptPlan = await P.createConfiguredPlan(api, { configure: { engine: { size: 1 << 20 } } });
    const keptSet = (await api.call('StartBackupPlan', { BackupPlanId: keptPlan })).CreatedFullBackupsetId;
    await P.waitSetStatus(api, keptPlan, keptSet, 'finish');

    // ~4 s of incompressible data: packs (16 MiB) are stored while it runs, then it is stopped.
    const slowPlan = await P.createConfiguredPlan(api, { configure: { engine: { size: 64 << 20, rate: 16 << 20 } } });
    const slowSet = (await api.call('StartBackupPlan', { BackupPlanId: slowPlan })).CreatedFullBackupsetId;
    await waitFor('the slow backup past 60 %', async () => (await P.fullSet(api, slowPlan, slowSet)).Progress >= 60,
      { timeoutMs: 20000 });
    const during = await node.metrics();
    assert.ok(metric(during, 'opendbs_repository_prune_runs_total{result="skipped_locked"}') >= 1,
      'a pass while the backup wrote was skipped');
    // The writer's shared lock keeps every pass off its packs until it is stopped (then they are garbage).
    const written = packBytes(node);
    t.diagnostic(`packs before the stop: ${written} bytes`);
    assert.ok(written >= 16 << 20, `the slow backup has stored packs (${written} bytes)`);
    await api.call('StopBackupPlan', { BackupPlanId: slowPlan, StopMethod: 'ALL' });
    await P.waitSetStatus(api, slowPlan, slowSet, 'stop', 10000);

    const freed = await waitFor('a pass that frees the stopped backup\'s packs', async () => {
      const m = await node.metrics();
      const bytes = metric(m, 'opendbs_repository_prune_freed_bytes_total');
      return bytes > 0 && { m, bytes };
    }, { timeoutMs: 15000, intervalMs: 250 });
    const after = packBytes(node);
    t.diagnostic(`prune freed ${freed.bytes} bytes; packs now ${after} bytes`);
    assert.ok(after < 2 << 20, `only the kept 1 MiB set's packs remain (${after} bytes)`);
    assert.ok(freed.bytes >= 16 << 20, `freed the stopped backup's packs (${freed.bytes} bytes)`);
    assert.equal(metric(freed.m, 'opendbs_repository_prune_runs_total{result="failed"}'), 0);
    assert.ok(metric(freed.m, 'opendbs_repository_prune_packs_total{action="deleted"}') >= 1);
    assert.ok(metric(freed.m, 'opendbs_repository_prune_last_success_timestamp_seconds') * 1000 > Date.now() - 60000);
    assert.ok(node.events('repo_prune', { Result: 'done' }).some((e) => e.BytesFreed > 0));

    // The kept set restores; the TestEngine checks every byte against the generator.
    const restore = await api.call('CreateRestoreTask', {
      BackupPlanId: keptPlan, RestoreTaskName: 'after-prune', BackupSetId: keptSet,
      DestinationEndpointInstanceType: 'Agent', RestoreDir: path.join(node.dataDir, 'restore-kept'),
    });
    await api.call('StartRestoreTask', { RestoreTaskId: restore.RestoreTaskId });
    await waitFor('restore finish', async () => {
      const d = await P.restoreTask(api, restore.RestoreTaskId);
      if (d.RestoreStatus === 'stop' || d.RestoreStatus === 'failed') throw new Error(`restore failed: ${d.ErrMessage}`);
      return d.RestoreStatus === 'finish';
    });
  } finally {
    await node.dispose();
  }
});

test('a pack lost from the repository: a prune pass marks the set that needs it failed and /metrics counts both', async () => {
  const node = await TestNode.start({ workers: 2, env: { OPENDBS_PRUNE_INTERVAL: '1s', OPENDBS_PRUNE_RETRY: '300ms' } });
  try {
    const api = checked(makeClient(node, 'tea-v3'));
    const plan = await P.createConfiguredPlan(api, { configure: { engine: { size: 1 << 20 } } });
    const set = (await api.call('StartBackupPlan', { BackupPlanId: plan })).CreatedFullBackupsetId;
    await P.waitSetStatus(api, plan, set, 'finish');
    const before = await node.metrics();
    assert.equal(metric(before, 'opendbs_repository_damaged_sets'), 0);
    assert.equal(metric(before, 'opendbs_repository_lost_packs_total'), 0);

    const packs = packFiles(node);  // a bucket lifecycle rule, or a disk that lost a directory
    assert.ok(packs.length >= 1, 'the set stored packs');
    for (const p of packs) fs.unlinkSync(p);

    const found = await waitFor('a pass that finds the lost packs', async () => {
      const m = await node.metrics();
      return metric(m, 'opendbs_repository_damaged_sets') >= 1 && m;
    }, { timeoutMs: 15000, intervalMs: 250 });
    assert.equal(metric(found, 'opendbs_repository_damaged_sets'), 1);
    assert.ok(metric(found, 'opendbs_repository_lost_packs_total') >= packs.length);
    await P.waitSetStatus(api, plan, set, 'failed', 10000);
    assert.match((await P.fullSet(api, plan, set)).ErrMessage, /can no longer be restored/);
  } finally {
    await node.dispose();
  }
});
