// Access control: RAM policies on users' AccessKeys (action dbs:<Action>, plan resources
// acs:dbs:{region}:{account}:backupplan/{id}, explicit Deny, conditions), accounts that never see each
// other's plans, changes by `opendbs admin` while the node runs, disabled keys.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { TestNode } = require('./lib/node_process');
const { makeClient, FAMILIES, errorCode, errorStatus } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const P = require('./lib/plans');

let node;
let root;          // checked root client of the default account
let accountId;     // the default account's 16-digit id
let planA;
let planB;
let userCount = 0;

before(async () => {
  node = await TestNode.start({ workers: 4 });
  root = checked(makeClient(node, 'tea-v3'));
  planA = await P.createConfiguredPlan(root, { configure: { engine: { size: 64 * 1024 } } });
  planB = await P.createConfiguredPlan(root, { configure: { engine: { size: 64 * 1024 } } });
  const probe = await node.admin('user', 'create', 'probe');
  accountId = probe.AccountId;
});
after(async () => { await node.dispose(); });

async function attach(user, policy, policyName = 'main', account) {
  const file = path.join(node.dataDir, `policy-${user}-${policyName}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(policy));
  const args = account ? ['--account', account] : [];
  await node.admin(...args, 'policy', 'attach', user, '--file', file, '--policy-name', policyName);
}

// A new RAM user in the default account (or `account`) with `policy` attached; returns its key.
async function userWithPolicy(policy, account) {
  const name = `user${++userCount}`;
  const args = account ? ['--account', account] : [];
  await node.admin(...args, 'user', 'create', name);
  const key = await node.admin(...args, 'accesskey', 'create', name);
  assert.match(key.AccessKeyId, /\S{8,}/);
  assert.ok(key.AccessKeySecret.length >= 16);
  if (policy) await attach(name, policy, 'main', account);
  return { name, key: { accessKeyId: key.AccessKeyId, accessKeySecret: key.AccessKeySecret } };
}

const allow = (Action, Resource, Condition) => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
const deny = (Action, Resource) => ({ Effect: 'Deny', Action, Resource });
const doc = (...Statement) => ({ Version: '1', Statement });
const planArn = (id) => `acs:dbs:*:*:backupplan/${id}`;

async function expectForbidden(promise, what) {
  let caught;
  try { await promise; } catch (e) { caught = e; }
  assert.ok(caught, `${what}: expected Request.Forbidden, the call succeeded`);
  assert.equal(errorCode(caught), 'Request.Forbidden', `${what}: ${caught.message}`);
  assert.equal(errorStatus(caught), 403, what);
  assert.equal(caught.data.Message, 'Have no Permissions', what);
}

async function expectCode(promise, code, what) {
  let caught;
  try { await promise; } catch (e) { caught = e; }
  assert.ok(caught, `${what}: expected ${code}, the call succeeded`);
  assert.equal(errorCode(caught), code, `${what}: ${caught.message}`);
  return caught;
}

describe('a user allowed only Describe* on one plan', () => {
  let user;
  before(async () => { user = await userWithPolicy(doc(allow('dbs:Describe*', planArn(planA)))); });

  for (const family of FAMILIES) {
    test(`${family}: may describe its plan, is denied StopBackupPlan and other plans`, async () => {
      const client = makeClient(node, family, { key: user.key });
      const sets = await checked(client).call('DescribeFullBackupList', { BackupPlanId: planA });
      assert.deepEqual(sets.Items.FullBackupFile, []);
      const listed = await checked(client).call('DescribeBackupPlanList', { BackupPlanId: planA });
      assert.deepEqual(listed.Items.BackupPlanDetail.map((p) => p.BackupPlanId), [planA]);
      await checked(client).call('DescribePreCheckProgressList', { BackupPlanId: planA });

      await expectForbidden(client.call('StopBackupPlan', { BackupPlanId: planA, StopMethod: 'PLAN' }), 'Stop own plan');
      await expectForbidden(client.call('StartBackupPlan', { BackupPlanId: planA }), 'Start own plan');
      await expectForbidden(client.call('DescribeFullBackupList', { BackupPlanId: planB }), 'Describe another plan');
      await expectForbidden(client.call('DescribeBackupPlanList', { BackupPlanId: `${planA},${planB}` }), 'a list naming another plan');
      await expectForbidden(client.call('CreateBackupPlan', P.createParams()), 'CreateBackupPlan');
      await expectForbidden(client.call('DescribeRegions', {}), 'an account-wide Describe');
    });
  }

  test('a list without a plan id never reveals other plans', async () => {
    const client = makeClient(node, 'pop-get', { key: user.key });
    let listed = null;
    try {
      listed = await client.call('DescribeBackupPlanList', {});
    } catch (e) {
      assert.equal(errorCode(e), 'Request.Forbidden');
    }
    if (listed) assert.ok(!listed.Items.BackupPlanDetail.some((p) => p.BackupPlanId === planB), 'plan B is not listed');
  });

  test('nothing was changed by the denied calls', async () => {
    assert.equal((await P.describePlan(root, planA)).BackupPlanStatus, 'check_pass');
  });
});

describe('policy evaluation', () => {
  test('a user without any policy is denied everything', async () => {
    const { key } = await userWithPolicy(null);
    await expectForbidden(makeClient(node, 'tea-v1', { key }).call('DescribeRegions', {}), 'no policy');
  });

  test('an explicit Deny wins over an Allow', async () => {
    const { key } = await userWithPolicy(doc(
      allow('dbs:*', '*'),
      deny('dbs:StopBackupPlan', planArn(planA)),
    ));
    const client = makeClient(node, 'tea-v3', { key });
    await expectForbidden(client.call('StopBackupPlan', { BackupPlanId: planA, StopMethod: 'PLAN' }), 'denied Stop');
    await checked(client).call('StopBackupPlan', { BackupPlanId: planB, StopMethod: 'PLAN' });
    await checked(client).call('DescribeFullBackupList', { BackupPlanId: planA });
    assert.equal((await P.describePlan(root, planA)).BackupPlanStatus, 'check_pass');
    assert.equal((await P.describePlan(root, planB)).BackupPlanStatus, 'pause');
  });

  test('a Deny with an action wildcard in a second policy denies every action on the plan', async () => {
    const { name, key } = await userWithPolicy(doc(allow('dbs:*', '*')));
    await attach(name, doc(deny('dbs:*', [planArn(planA), `acs:dbs:*:*:backupplan/nothing-else`])), 'fence');
    const client = makeClient(node, 'pop-post', { key });
    await expectForbidden(client.call('DescribeFullBackupList', { BackupPlanId: planA }), 'fenced plan');
    await checked(client).call('DescribeFullBackupList', { BackupPlanId: planB });
  });

  test('acs:SourceIp: 127.0.0.1/32 allows, 10.0.0.0/8 does not', async () => {
    const { name, key } = await userWithPolicy(doc(allow('dbs:DescribeRegions', '*', { IpAddress: { 'acs:SourceIp': '127.0.0.1/32' } })));
    const client = makeClient(node, 'pop-get', { key });
    await checked(client).call('DescribeRegions', {});
    await attach(name, doc(allow('dbs:DescribeRegions', '*', { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } })));
    await expectForbidden(client.call('DescribeRegions', {}), 'from outside 10.0.0.0/8');
    await attach(name, doc(allow('dbs:DescribeRegions', '*', { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } })));
    await checked(client).call('DescribeRegions', {});
  });

  test('acs:SecureTransport true allows the call only over HTTPS', async () => {
    const { key } = await userWithPolicy(doc(allow('dbs:Describe*', '*', { Bool: { 'acs:SecureTransport': 'true' } })));
    for (const family of FAMILIES) {
      await expectForbidden(makeClient(node, family, { key }).call('DescribeRegions', {}), `${family} over HTTP`);
      await checked(makeClient(node, family, { key, secure: true })).call('DescribeRegions', {});
    }
  });

  test('acs:CurrentTime bounds the allowed period', async () => {
    const { name, key } = await userWithPolicy(doc(allow('dbs:DescribeRegions', '*', { DateLessThan: { 'acs:CurrentTime': '2020-01-01T00:00:00Z' } })));
    const client = makeClient(node, 'tea-v3', { key });
    await expectForbidden(client.call('DescribeRegions', {}), 'after the end date');
    await attach(name, doc(allow('dbs:DescribeRegions', '*', { DateGreaterThan: { 'acs:CurrentTime': '2020-01-01T00:00:00Z' } })));
    await checked(client).call('DescribeRegions', {});
  });

  test('a policy naming the account and region by id matches; another account id does not', async () => {
    const own = await userWithPolicy(doc(allow('dbs:DescribeFullBackupList', `acs:dbs:cn-hangzhou:${accountId}:backupplan/*`)));
    await checked(makeClient(node, 'tea-v3', { key: own.key })).call('DescribeFullBackupList', { BackupPlanId: planA });
    const other = await userWithPolicy(doc(allow('dbs:DescribeFullBackupList', 'acs:dbs:cn-hangzhou:1111222233334444:backupplan/*')));
    await expectForbidden(makeClient(node, 'tea-v3', { key: other.key }).call('DescribeFullBackupList', { BackupPlanId: planA }), 'other account id');
  });

  test('a policy change by admin takes effect on the next request; detach removes it', async () => {
    const { name, key } = await userWithPolicy(null);
    const client = makeClient(node, 'tea-v1', { key });
    await expectForbidden(client.call('DescribeBackupPlanBilling', { BackupPlanId: planA }), 'before attach');
    await attach(name, doc(allow('dbs:DescribeBackupPlanBilling', planArn(planA))));
    await checked(client).call('DescribeBackupPlanBilling', { BackupPlanId: planA });
    await attach(name, doc(allow('dbs:DescribeBackupPlanBilling', planArn(planB))));
    await expectForbidden(client.call('DescribeBackupPlanBilling', { BackupPlanId: planA }), 'after replacing the policy');
    await checked(client).call('DescribeBackupPlanBilling', { BackupPlanId: planB });
    await node.admin('policy', 'detach', name, '--policy-name', 'main');
    await expectForbidden(client.call('DescribeBackupPlanBilling', { BackupPlanId: planB }), 'after detach');
  });

  test('an invalid policy document is refused by admin and changes nothing', async () => {
    const { name, key } = await userWithPolicy(doc(allow('dbs:DescribeRegions', '*')));
    const file = path.join(node.dataDir, 'bad-policy.json');
    fs.writeFileSync(file, JSON.stringify(doc({ Effect: 'Allow', NotAction: 'dbs:*', Resource: '*' })));
    await assert.rejects(node.admin('policy', 'attach', name, '--file', file, '--policy-name', 'main'), /Statement/);
    await checked(makeClient(node, 'tea-v3', { key })).call('DescribeRegions', {});
  });

  test('a disabled AccessKey is rejected until enabled again', async () => {
    const { key } = await userWithPolicy(doc(allow('dbs:*', '*')));
    const client = makeClient(node, 'pop-get', { key });
    await checked(client).call('DescribeRegions', {});
    await node.admin('accesskey', 'disable', key.accessKeyId);
    const err = await expectCode(client.call('DescribeRegions', {}), 'InvalidAccessKeyId.Inactive', 'disabled key');
    assert.ok(err.data.Message.includes(key.accessKeyId));
    await node.admin('accesskey', 'enable', key.accessKeyId);
    await checked(client).call('DescribeRegions', {});
  });
});

describe('accounts', () => {
  let other;   // root key of a second account
  before(async () => {
    const created = await node.admin('account', 'create', 'second');
    assert.match(created.AccountId, /^\d{16}$/);
    assert.notEqual(created.AccountId, accountId);
    other = { accountId: created.AccountId, key: { accessKeyId: created.AccessKeyId, accessKeySecret: created.AccessKeySecret } };
  });

  test('a second account never sees the first account\'s plans', async () => {
    for (const family of FAMILIES) {
      const client = makeClient(node, family, { key: other.key });
      const list = await checked(client).call('DescribeBackupPlanList', {});
      assert.equal(list.TotalElements, 0, family);
      assert.deepEqual(list.Items.BackupPlanDetail, []);
      const named = await checked(client).call('DescribeBackupPlanList', { BackupPlanId: `${planA},${planB}` });
      assert.deepEqual(named.Items.BackupPlanDetail, []);
      for (const [action, params] of [
        ['DescribeFullBackupList', { BackupPlanId: planA }],
        ['StopBackupPlan', { BackupPlanId: planA, StopMethod: 'ALL' }],
        ['StartBackupPlan', { BackupPlanId: planA }],
        ['ModifyBackupPlanName', { BackupPlanId: planA, BackupPlanName: 'stolen' }],
        ['ReleaseBackupPlan', { BackupPlanId: planA }],
      ]) {
        const err = await expectCode(client.call(action, params), 'InvalidJobId', `${family} ${action}`);
        assert.ok(err.data.Message.includes(planA));
      }
    }
    const plan = await P.describePlan(root, planA);
    assert.notEqual(plan.BackupPlanName, 'stolen');
    assert.equal(plan.BackupPlanStatus, 'check_pass');
  });

  test('the first account does not see the second account\'s plans', async () => {
    const mine = checked(makeClient(node, 'tea-v3', { key: other.key }));
    const id = (await mine.call('CreateBackupPlan', P.createParams())).BackupPlanId;
    assert.equal((await mine.call('DescribeBackupPlanList', {})).TotalElements, 1);
    const theirs = await root.call('DescribeBackupPlanList', { BackupPlanId: id });
    assert.deepEqual(theirs.Items.BackupPlanDetail, []);
    await expectCode(makeClient(node, 'pop-get').call('ReleaseBackupPlan', { BackupPlanId: id }), 'InvalidJobId', 'cross-account release');
  });

  test('a user of the second account allowed on the first account\'s ARN still cannot reach its plans', async () => {
    const { key } = await userWithPolicy(doc(allow('dbs:*', `acs:dbs:*:${accountId}:*`)), other.accountId);
    const client = makeClient(node, 'tea-v3', { key });
    let caught;
    try { await client.call('DescribeFullBackupList', { BackupPlanId: planA }); } catch (e) { caught = e; }
    assert.ok(caught, 'the call failed');
    assert.ok(['Request.Forbidden', 'InvalidJobId'].includes(errorCode(caught)), caught.message);
  });
});

describe('plan-scoped reads stay inside the authorised plan', () => {
  test('DescribePreCheckProgressList does not answer about a restore of another plan',
    async () => {
      const started = await root.call('StartBackupPlan', { BackupPlanId: planB });
      await P.waitSetStatus(root, planB, started.CreatedFullBackupsetId, 'finish');
      const restore = await root.call('CreateRestoreTask', {
        BackupPlanId: planB, RestoreTaskName: 'of-b', BackupSetId: started.CreatedFullBackupsetId,
        DestinationEndpointInstanceType: 'Agent', RestoreDir: path.join(node.dataDir, 'restore-of-b'),
      });
      const { key } = await userWithPolicy(doc(allow('dbs:Describe*', planArn(planA))));
      const client = makeClient(node, 'tea-v3', { key });
      let caught;
      try {
        await client.call('DescribePreCheckProgressList', { BackupPlanId: planA, RestoreTaskId: restore.RestoreTaskId });
      } catch (e) {
        caught = e;
      }
      assert.ok(caught, 'a restore of plan B is not described to a caller authorised on plan A only');
      assert.ok(errorStatus(caught) >= 400 && errorStatus(caught) < 500);
    });
});
