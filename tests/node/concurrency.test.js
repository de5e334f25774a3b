// 64 concurrent clients (every family, HTTP and HTTPS) issuing StartBackupPlan / StopBackupPlan on the
// same few plans: never a 5xx, a final state that one of the last operations explains, no lost or
// extra backup sets; with a shared ClientToken and the same parameters, exactly one effect.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { TestNode, waitFor } = require('./lib/node_process');
const { makeClient, everyClientKind, errorCode, errorStatus } = require('./lib/clients');
const { checked, assertSuccess } = require('./lib/envelope');
const P = require('./lib/plans');

const CLIENTS = 64;
const QUICK = { size: 512 * 1024, rate: 1 << 20 };  // each full backup runs ~0.5 s

let node;
let clients;
let root;

before(async () => {
  node = await TestNode.start({ workers: 16 });
  const kinds = everyClientKind();
  clients = Array.from({ length: CLIENTS }, (_, i) => makeClient(node, kinds[i % kinds.length].family,
    { secure: kinds[i % kinds.length].secure }));
  root = checked(makeClient(node, 'tea-v3'));
});
after(async () => {
  for (const c of clients) c.close();
  await node.dispose();
});

// Runs `call` once per client at the same time; resolves to [{ok, body|err, sent, received}].
async function storm(call) {
  return Promise.all(clients.map(async (client, i) => {
    const sent = Date.now();
    try {
      const body = await call(client, i);
      return { ok: true, body, sent, received: Date.now(), client };
    } catch (err) {
      return { ok: false, err, sent, received: Date.now(), client };
    }
  }));
}

function assertNo5xx(results) {
  for (const r of results) {
    if (r.ok) continue;
    const status = errorStatus(r.err);
    assert.ok(status && status < 500, `${r.client.label}: ${errorCode(r.err)} ${status} ${r.err.message}`);
  }
}

async function quickPlan() {
  return P.createConfiguredPlan(root, { configure: { engine: QUICK } });
}

// Waits until no set of the plan is init or running; returns the sets.
async function settledSets(planId, timeoutMs = 30000) {
  return waitFor(`the sets of ${planId} to settle`, async () => {
    const sets = await P.fullSets(root, planId);
    return sets.every((s) => ['finish', 'stop', 'failed'].includes(s.BackupStatus)) && sets;
  }, { timeoutMs, intervalMs: 250 });
}

describe('shared ClientToken, same parameters: exactly one effect', () => {
  test('StartBackupPlan from 64 clients creates one full backup set, and all get its id', async () => {
    const planId = await quickPlan();
    const token = `start-${planId}`;
    const results = await storm((c) => c.call('StartBackupPlan', { BackupPlanId: planId, ClientToken: token }));
    assertNo5xx(results);
    for (const r of results) assert.ok(r.ok, `${r.client.label}: ${r.ok || r.err.message}`);
    for (const r of results) assertSuccess(r.body);
    const ids = new Set(results.map((r) => r.body.CreatedFullBackupsetId));
    assert.equal(ids.size, 1, `one set id for everyone: ${[...ids]}`);
    const sets = await P.fullSets(root, planId);
    assert.deepEqual(sets.map((s) => s.BackupSetId), [...ids]);
    await P.waitSetStatus(root, planId, [...ids][0], 'finish');
  });

  test('CreateBackupPlan from 64 clients creates one plan', async () => {
    const group = `rg-token-${Date.now()}`;
    const token = `create-${group}`;
    const results = await storm((c) => c.call('CreateBackupPlan', P.createParams({ ResourceGroupId: group, ClientToken: token })));
    assertNo5xx(results);
    for (const r of results) assert.ok(r.ok, r.ok || r.err.message);
    const ids = new Set(results.map((r) => r.body.BackupPlanId));
    assert.equal(ids.size, 1);
    const listed = await root.call('DescribeBackupPlanList', { ResourceGroupId: group });
    assert.equal(listed.TotalElements, 1);
  });

  test('StopBackupPlan ALL from 64 clients with one token: all succeed, the plan is paused once', async () => {
    const planId = await quickPlan();
    const started = await root.call('StartBackupPlan', { BackupPlanId: planId });
    const token = `stop-${planId}`;
    const results = await storm((c) => c.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL', ClientToken: token }));
    assertNo5xx(results);
    for (const r of results) assert.ok(r.ok, r.ok || r.err.message);
    assert.equal((await P.describePlan(root, planId)).BackupPlanStatus, 'pause');
    const job = await P.waitTaskState(root, started.CreatedFullBackupsetId, 'cancelled', 5000).catch(() => null)
      || await P.task(root, started.CreatedFullBackupsetId);
    assert.ok(['cancelled', 'succeeded'].includes(job.JobState), job.JobState);
  });

  test('one token with two different parameter sets: one set wins, the other is IdempotentParameterMismatch', async () => {
    const planId = await quickPlan();
    await root.call('StartBackupPlan', { BackupPlanId: planId });
    const token = `mixed-${planId}`;
    const results = await storm((c, i) => c.call('StopBackupPlan', {
      BackupPlanId: planId, StopMethod: i % 2 ? 'ALL' : 'PLAN', ClientToken: token,
    }));
    assertNo5xx(results);
    const winners = results.filter((r) => r.ok);
    const losers = results.filter((r) => !r.ok);
    for (const r of losers) assert.equal(errorCode(r.err), 'IdempotentParameterMismatch', r.err.message);
    assert.equal(winners.length, CLIENTS / 2, `exactly the callers of one parameter set succeed (${winners.length})`);
    const winningMethods = new Set(winners.map((r) => (clients.indexOf(r.client) % 2 ? 'ALL' : 'PLAN')));
    assert.equal(winningMethods.size, 1);
    assert.equal((await P.describePlan(root, planId)).BackupPlanStatus, 'pause');
  });
});

describe('Start and Stop storms without tokens', () => {
  test('64 clients, 3 plans, random Start/Stop(ALL|PLAN): no 5xx, no lost set, a final state a last operation explains', async () => {
    const plans = [await quickPlan(), await quickPlan(), await quickPlan()];
    const ops = [];   // every successful operation: {plan, kind, sent, received, setId}
    const OPS_PER_CLIENT = 4;
    const results = await storm(async (c, i) => {
      for (let k = 0; k < OPS_PER_CLIENT; k++) {
        const plan = plans[(i + k) % plans.length];
        const pick = (i * 7 + k * 3) % 5;   // deterministic mix: 2/5 Start, 2/5 Stop ALL, 1/5 Stop PLAN
        const kind = pick < 2 ? 'start' : pick < 4 ? 'stopAll' : 'stopPlan';
        const sent = Date.now();
        const body = kind === 'start'
          ? await c.call('StartBackupPlan', { BackupPlanId: plan })
          : await c.call('StopBackupPlan', { BackupPlanId: plan, StopMethod: kind === 'stopAll' ? 'ALL' : 'PLAN' });
        assertSuccess(body);
        ops.push({ plan, kind, sent, received: Date.now(), setId: body.CreatedFullBackupsetId });
      }
      return true;
    });
    assertNo5xx(results);
    for (const r of results) assert.ok(r.ok, `${r.client.label}: ${r.ok || r.err.message}`);
    assert.equal(ops.length, CLIENTS * OPS_PER_CLIENT);

    for (const plan of plans) {
      const mine = ops.filter((o) => o.plan === plan);
      // Every StartBackupPlan created exactly one set, and no set exists that no Start created.
      const started = mine.filter((o) => o.kind === 'start').map((o) => o.setId);
      assert.equal(new Set(started).size, started.length, 'distinct set ids');
      const sets = await P.fullSets(root, plan, { PageSize: 100 });
      assert.deepEqual(sets.map((s) => s.BackupSetId).sort(), [...started].sort());

      // The last operations: those that no other operation certainly followed (sent after they were answered).
      const candidates = mine.filter((x) => !mine.some((y) => y.sent > x.received));
      const explained = new Set(candidates.map((o) => (o.kind === 'start' ? 'running' : 'pause')));
      const status = (await P.describePlan(root, plan)).BackupPlanStatus;
      assert.ok(explained.has(status), `status ${status} is what one of the last operations leaves (${[...explained]})`);
    }

    // End with Stop ALL everywhere: nothing may keep running, every set ends.
    for (const plan of plans) await root.call('StopBackupPlan', { BackupPlanId: plan, StopMethod: 'ALL' });
    for (const plan of plans) {
      assert.equal((await P.describePlan(root, plan)).BackupPlanStatus, 'pause');
    }
  });

  test('after a storm, every set of a stopped plan ends (finish or stop), none stays init',
    async () => {
      const plans = [await quickPlan(), await quickPlan()];
      const results = await storm((c, i) => (i % 3 === 2
        ? c.call('StopBackupPlan', { BackupPlanId: plans[i % 2], StopMethod: 'ALL' })
        : c.call('StartBackupPlan', { BackupPlanId: plans[i % 2] })));
      assertNo5xx(results);
      for (const plan of plans) await root.call('StopBackupPlan', { BackupPlanId: plan, StopMethod: 'ALL' });
      for (const plan of plans) {
        const sets = await settledSets(plan, 8000);
        assert.ok(sets.length > 0);
      }
    });

  test('concurrent Modify* and Describe calls during a storm stay consistent', async () => {
    const planId = await quickPlan();
    const results = await storm((c, i) => {
      switch (i % 4) {
        case 0: return c.call('ModifyBackupPlanName', { BackupPlanId: planId, BackupPlanName: `name-${i}` });
        case 1: return c.call('StartBackupPlan', { BackupPlanId: planId });
        case 2: return c.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'PLAN' });
        default: return c.call('DescribeBackupPlanList', { BackupPlanId: planId });
      }
    });
    assertNo5xx(results);
    for (const r of results) assert.ok(r.ok, `${r.client.label}: ${r.ok || r.err.message}`);
    for (const r of results.filter((_, i) => i % 4 === 3)) {
      assert.equal(r.body.Items.BackupPlanDetail.length, 1);
      assert.ok(['check_pass', 'running', 'pause'].includes(r.body.Items.BackupPlanDetail[0].BackupPlanStatus));
    }
    const plan = await P.describePlan(root, planId);
    assert.match(plan.BackupPlanName, /^name-\d+$/);
    const starts = results.filter((_, i) => i % 4 === 1).map((r) => r.body.CreatedFullBackupsetId);
    assert.equal((await P.fullSets(root, planId)).length, new Set(starts).size);
    assert.equal(new Set(starts).size, CLIENTS / 4);
  });
});
