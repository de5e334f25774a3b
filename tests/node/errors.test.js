// Errors as each Alibaba Cloud client sees them (pop-core throws with err.code = Code; Tea throws with
// code and statusCode), hand-made requests the SDKs would not send (stale timestamps, reused nonces),
// and garbage: whatever a client sends, the node answers 4xx with an error body, never 5xx.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const { TestNode } = require('./lib/node_process');
const { makeClient, FAMILIES, errorCode, errorStatus } = require('./lib/clients');
const { checked, REQUEST_ID } = require('./lib/envelope');
const S = require('./lib/signing');
const P = require('./lib/plans');

let node;
let planId;
let finishedSet;

before(async () => {
  node = await TestNode.start({ workers: 4 });
  const api = checked(makeClient(node, 'tea-v3'));
  planId = await P.createConfiguredPlan(api, { configure: { engine: { size: 64 * 1024 } } });
  const started = await api.call('StartBackupPlan', { BackupPlanId: planId });
  finishedSet = await P.waitSetStatus(api, planId, started.CreatedFullBackupsetId, 'finish');
});
after(async () => { await node.dispose(); });

// Awaits a rejection with API error `code`, HTTP `status`, and a message containing every `includes`.
async function expectError(promise, code, { status, includes = [] } = {}) {
  let caught;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${code}, but the call succeeded`);
  assert.equal(errorCode(caught), code, `code (message: ${caught.message})`);
  if (status) assert.equal(errorStatus(caught), status, `HTTP status of ${code}`);
  for (const text of includes) assert.ok(caught.message.includes(text), `message names "${text}": ${caught.message}`);
  const body = caught.data;
  assert.match(body.RequestId, REQUEST_ID);
  assert.equal(body.Code, code);
  assert.equal(body.ErrCode, code);
  assert.equal(body.Success, false);
  assert.equal(body.ErrMessage, body.Message);
  assert.equal(typeof body.HostId, 'string');
  assert.equal(typeof body.Recommend, 'string');
  return caught;
}

for (const family of FAMILIES) {
  describe(`errors seen by ${family}`, { concurrency: true }, () => {
    const client = (options = {}) => makeClient(node, family, options);

    test('an unknown AccessKeyId is InvalidAccessKeyId.NotFound', async () => {
      const key = { accessKeyId: 'LTAInobody12345', accessKeySecret: 'whatever-secret' };
      await expectError(client({ key }).call('DescribeRegions', {}), 'InvalidAccessKeyId.NotFound', { status: 404 });
    });

    test('a wrong secret is SignatureDoesNotMatch with the server string to sign', async () => {
      const key = { accessKeyId: node.root.accessKeyId, accessKeySecret: 'not-the-secret' };
      const err = await expectError(client({ key }).call('DescribeBackupPlanList', { PageSize: 5 }),
        'SignatureDoesNotMatch', { status: 400, includes: ['string to sign'] });
      // V1 signs the parameters, V3 the x-acs headers; either way the parameters the node read appear.
      const expected = family === 'tea-v3' ? ['x-acs-action:DescribeBackupPlanList', 'PageSize=5']
        : ['Action%3DDescribeBackupPlanList', 'PageSize%3D5'];
      for (const text of expected) assert.ok(err.message.includes(text), `${text} in ${err.message}`);
    });

    test('an unknown action is InvalidAction.NotFound', async () => {
      await expectError(client().call('DescribeEverything', {}), 'InvalidAction.NotFound',
        { status: 404, includes: ['DescribeEverything'] });
    });

    test('another API version is InvalidVersion', async () => {
      await expectError(client({ version: '2021-01-01' }).call('DescribeRegions', {}), 'InvalidVersion',
        { status: 400, includes: ['2021-01-01', '2019-03-06'] });
    });

    test('a missing parameter is MissingParameter naming it', async () => {
      await expectError(client().call('StopBackupPlan', { BackupPlanId: planId }), 'MissingParameter',
        { status: 400, includes: ['StopMethod'] });
      await expectError(client().call('CreateBackupPlan', { BackupMethod: 'logical', DatabaseType: 'MySQL' }),
        'MissingParameter', { includes: ['InstanceClass'] });
    });

    test('a value outside an enumeration names the parameter and the allowed values', async () => {
      await expectError(client().call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'SOME' }),
        'InvalidParameterValid', { status: 400, includes: ['StopMethod', 'SOME', 'ALL', 'PLAN'] });
      await expectError(client().call('CreateBackupPlan', P.createParams({ DatabaseType: 'Sybase' })),
        'InvalidParameterValid', { includes: ['DatabaseType', 'Sybase', 'PostgreSQL'] });
    });

    test('malformed numbers and booleans name the parameter', async () => {
      await expectError(client().call('DescribeBackupPlanList', { PageSize: 'ten' }), 'InvalidParameterValid',
        { includes: ['PageSize', 'ten'] });
      await expectError(client().call('DescribeBackupPlanList', { PageSize: 0 }), 'InvalidParameterValid',
        { includes: ['PageSize'] });
      await expectError(client().call('DescribeBackupPlanList', { PageNum: -1 }), 'InvalidParameterValid',
        { includes: ['PageNum'] });
      await expectError(client().call('DescribeBackupPlanList', { ShowRecoverTimeRange: 'maybe' }),
        'InvalidParameterValid', { includes: ['ShowRecoverTimeRange', 'true or false'] });
    });

    test('BackupPeriod, BackupStartTime and BackupObjects are checked', async () => {
      await expectError(client().call('ModifyBackupStrategy', { BackupPlanId: planId, BackupPeriod: 'Monday,Funday' }),
        'InvalidParameterValid', { includes: ['BackupPeriod', 'Funday', 'Monday'] });
      await expectError(client().call('ModifyBackupStrategy', { BackupPlanId: planId, BackupPeriod: 'Monday', BackupStartTime: '24:00' }),
        'InvalidParameterValid', { includes: ['BackupStartTime', '24:00', 'HH:mm'] });
      await expectError(client().call('ModifyBackupStrategy', { BackupPlanId: planId, BackupPeriod: 'Monday', BackupStartTime: '7:30' }),
        'InvalidParameterValid', { includes: ['BackupStartTime'] });
      await expectError(client().call('ModifyBackupObjects', { BackupPlanId: planId, BackupObjects: '[{"Table":"x"}]' }),
        'InvalidParameterValid', { includes: ['BackupObjects', 'DBName'] });
    });

    test('retention needs IA < Archive < Retention, 0 to 1825 days', async () => {
      const storage = (r, ia, ar) => client().call('ModifyStorageStrategy', {
        BackupPlanId: planId, BackupRetentionPeriod: r, DuplicationInfrequentAccessPeriod: ia, DuplicationArchivePeriod: ar,
      });
      await expectError(storage(400, 100, 50), 'InvalidParameterValid', { includes: ['DuplicationInfrequentAccessPeriod', 'DuplicationArchivePeriod'] });
      await expectError(storage(400, 100, 100), 'InvalidParameterValid', { includes: ['DuplicationInfrequentAccessPeriod'] });
      await expectError(storage(300, 100, 365), 'InvalidParameterValid', { includes: ['DuplicationArchivePeriod', 'BackupRetentionPeriod'] });
      await expectError(storage(1826, 100, 365), 'InvalidParameterValid', { includes: ['BackupRetentionPeriod', '1826'] });
      const plan = await P.describePlan(client(), planId);
      assert.equal(plan.DuplicationArchivePeriod < plan.BackupRetentionPeriod, true, 'nothing was recorded');
    });

    test('an unknown plan is InvalidJobId naming the id', async () => {
      await expectError(client().call('StopBackupPlan', { BackupPlanId: 'dbsnosuchplan1', StopMethod: 'ALL' }),
        'InvalidJobId', { status: 404, includes: ['dbsnosuchplan1'] });
      await expectError(client().call('StartRestoreTask', { RestoreTaskId: 'nosuchrestore' }), 'InvalidJobId',
        { status: 404, includes: ['nosuchrestore'] });
      await expectError(client().call('DescribeFullBackupList', { BackupPlanId: 'dbsnosuchplan2' }), 'InvalidJobId',
        { includes: ['dbsnosuchplan2'] });
    });

    test('a ClientToken reused with other parameters is IdempotentParameterMismatch', async () => {
      const token = `tok-${family}-${Date.now()}`;
      const api = checked(client());
      const first = await api.call('ModifyBackupPlanName', { BackupPlanId: planId, BackupPlanName: `A-${family}`, ClientToken: token });
      const again = await api.call('ModifyBackupPlanName', { BackupPlanId: planId, BackupPlanName: `A-${family}`, ClientToken: token });
      assert.equal(again.BackupPlanId, first.BackupPlanId);
      await expectError(client().call('ModifyBackupPlanName', { BackupPlanId: planId, BackupPlanName: `B-${family}`, ClientToken: token }),
        'IdempotentParameterMismatch', { status: 400, includes: [token] });
    });

    test('a RestoreTime outside every restorable range names the nearest range', async () => {
      const early = finishedSet.EndTime - 3600 * 1000;
      await expectError(client().call('CreateRestoreTask', {
        BackupPlanId: planId, RestoreTaskName: 'too-early', RestoreTime: early,
        DestinationEndpointInstanceType: 'Agent', RestoreDir: `${node.dataDir}/never`,
      }), 'InvalidParameterValid', { status: 400, includes: ['RestoreTime', String(early), String(finishedSet.EndTime)] });
      const restores = await client().call('DescribeRestoreTaskList', { BackupPlanId: planId });
      assert.ok(!restores.Items.RestoreTaskDetail.some((r) => r.RestoreTaskName === 'too-early'), 'nothing was created');
    });
  });
}

describe('hand-signed requests', () => {
  const key = () => node.root;
  const minutesAgo = (m) => S.isoSeconds(new Date(Date.now() - m * 60000));

  test('a V1 Timestamp more than 15 minutes off is InvalidTimeStamp.Expired; 14 minutes is accepted', async () => {
    for (const method of ['GET', 'POST']) {
      const stale = await S.v1Request(node, method, 'DescribeRegions', {}, key(), { Timestamp: minutesAgo(16) });
      assert.equal(stale.status, 400);
      assert.equal(stale.json.Code, 'InvalidTimeStamp.Expired');
      const future = await S.v1Request(node, method, 'DescribeRegions', {}, key(), { Timestamp: minutesAgo(-16) });
      assert.equal(future.json.Code, 'InvalidTimeStamp.Expired');
      const recent = await S.v1Request(node, method, 'DescribeRegions', {}, key(), { Timestamp: minutesAgo(14) });
      assert.equal(recent.status, 200, recent.text);
    }
    const garbage = await S.v1Request(node, 'GET', 'DescribeRegions', {}, key(), { Timestamp: 'yesterday' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.Code, 'InvalidTimeStamp.Format');
  });

  test('a V3 x-acs-date more than 15 minutes off is InvalidTimeStamp.Expired', async () => {
    const host = `127.0.0.1:${node.port}`;
    const stale = S.signV3(host, 'DescribeRegions', {}, key(), { date: new Date(Date.now() - 20 * 60000) });
    const r = await S.rawRequest(node, { method: 'POST', path: stale.path, headers: stale.headers });
    assert.equal(r.status, 400);
    assert.equal(r.json.Code, 'InvalidTimeStamp.Expired');
    const fresh = S.signV3(host, 'DescribeRegions', {}, key());
    assert.equal((await S.rawRequest(node, { method: 'POST', path: fresh.path, headers: fresh.headers })).status, 200);
  });

  test('a SignatureNonce is accepted once (V1 and V3)', async () => {
    const nonce = S.nonce();
    const first = await S.v1Request(node, 'GET', 'DescribeRegions', {}, key(), { SignatureNonce: nonce });
    assert.equal(first.status, 200);
    const replay = await S.v1Request(node, 'POST', 'DescribeRegions', {}, key(), { SignatureNonce: nonce });
    assert.equal(replay.status, 400);
    assert.equal(replay.json.Code, 'SignatureNonceUsed');
    assert.ok(replay.json.Message.includes(nonce));

    const host = `127.0.0.1:${node.port}`;
    const v3nonce = S.nonce();
    const a = S.signV3(host, 'DescribeRegions', {}, key(), { signatureNonce: v3nonce });
    assert.equal((await S.rawRequest(node, { method: 'POST', path: a.path, headers: a.headers })).status, 200);
    const b = S.signV3(host, 'DescribeRegions', {}, key(), { signatureNonce: v3nonce });
    const again = await S.rawRequest(node, { method: 'POST', path: b.path, headers: b.headers });
    assert.equal(again.json.Code, 'SignatureNonceUsed');
  });

  test('a replayed request is rejected even byte for byte', async () => {
    const { params } = S.signV1('GET', 'DescribeRegions', {}, key());
    const path = `/?${S.canonicalQuery(params)}`;
    assert.equal((await S.rawRequest(node, { path })).status, 200);
    const replay = await S.rawRequest(node, { path });
    assert.equal(replay.json.Code, 'SignatureNonceUsed');
  });
});

// Every answer to garbage: a 4xx status and a JSON error body with a Code. Never a 5xx.
function assertClientError(r, what, code) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json && typeof r.json.Code === 'string', `${what}: error body ${r.text.slice(0, 300)}`);
  if (code) assert.equal(r.json.Code, code, `${what}: ${r.text.slice(0, 300)}`);
}

describe('garbage never causes a 5xx', () => {
  test('malformed requests get 4xx with a code', async () => {
    const cases = [
      ['bad percent-encoding in a value', { path: '/?Action=%ZZ' }, 'BadRequest'],
      ['bad percent-encoding in a name', { path: '/?%G0=1' }, 'BadRequest'],
      ['a truncated escape', { path: '/?Action=Describe%2' }, 'BadRequest'],
      ['a lone percent', { path: '/?%' }, 'BadRequest'],
      ['bad percent-encoding in a form body', {
        method: 'POST', path: '/', body: 'Action=%Z1', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }, 'BadRequest'],
      ['no parameters at all', { path: '/' }],
      ['only an Action', { path: '/?Action=DescribeRegions' }],
      ['an unknown path', { path: '/v1/plans' }, 'NotFound'],
      ['an unknown path with POST', { method: 'POST', path: '/console-api', body: 'x=1' }, 'NotFound'],
      ['PUT', { method: 'PUT', path: '/', body: '{}' }],
      ['DELETE', { method: 'DELETE', path: '/?Action=ReleaseBackupPlan' }],
      ['PATCH', { method: 'PATCH', path: '/' }],
      ['an Authorization header that is not V3', { path: '/', headers: { authorization: 'Bearer abc' } }],
      ['a V3 Authorization without fields', { method: 'POST', path: '/', headers: { authorization: 'ACS3-HMAC-SHA256 nonsense' } }],
      ['a V3 Authorization with an unknown algorithm', {
        method: 'POST', path: '/', headers: { authorization: 'ACS3-HMAC-MD5 Credential=x,SignedHeaders=host,Signature=00' },
      }],
      ['binary garbage as a form body', {
        method: 'POST', path: '/', body: Buffer.from([0xff, 0x00, 0x25, 0x80, 0x3d, 0x26, 0x26, 0x3d]),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }],
      ['a JSON body', { method: 'POST', path: '/', body: '{"Action":"DescribeRegions"}', headers: { 'content-type': 'application/json' } }],
      ['a parameter given twice', { path: '/?Action=DescribeRegions&Action=StopBackupPlan' }, 'InvalidParameter'],
    ];
    for (const [what, request, code] of cases) assertClientError(await S.rawRequest(node, request), what, code);
  });

  test('a body over the limit is 413, and so are huge headers', async () => {
    const big = await S.rawRequest(node, {
      method: 'POST', path: '/', body: Buffer.alloc(9 << 20, 0x61), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertClientError(big, 'a 9 MiB body', 'RequestTooLarge');
    assert.equal(big.status, 413);
    const headers = await S.rawRequest(node, { path: '/', headers: { 'x-padding': 'p'.repeat(20000) } });
    assert.equal(headers.status, 413);
    assertClientError(headers, '20 kB of headers', 'RequestTooLarge');
    const query = await S.rawRequest(node, { path: `/?Action=${'A'.repeat(20000)}` });
    assert.equal(query.status, 413);
  });

  test('a malformed HTTP request line gets 400 and the node keeps serving', async () => {
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(node.port, '127.0.0.1', () => socket.write('HELLO WORLD\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => { text += d; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => { socket.destroy(); resolve(text); }, 3000);
    });
    assert.match(answer, /^HTTP\/1\.[01] 400/);
    assert.equal((await S.rawRequest(node, { path: '/healthz' })).status, 200);
  });

  test('signed junk in every parameter of every operation gets 4xx or success, never 5xx', async () => {
    const schema = (await S.rawRequest(node, { path: '/api/schema' })).json;
    assert.equal(schema.Operations.length, 36);
    const api = checked(makeClient(node, 'tea-v3'));
    const victim = (await api.call('CreateBackupPlan', P.createParams())).BackupPlanId;
    const junk = ['', ' ', '-1', '0', '99999999999999999999999', '1e309', 'abc', '{"a":', '[{"DBName":1}]', '%',
      '\u0000', 'é✓', 'null', 'true', '\'; DROP TABLE records; --', '../../etc/passwd', 'x'.repeat(5000)];
    const valid = (p) => {
      if (p.Name === 'BackupPlanId') return victim;
      if (p.Enum) return p.Enum[0];
      if (p.Type === 'Boolean') return 'true';
      if (p.Type === 'Integer' || p.Type === 'Long') return '1';
      return 'x';
    };
    const failures = [];
    let sent = 0;
    // ReleaseBackupPlan last, so that the victim plan lives through the rest.
    const ops = [...schema.Operations].sort((a, b) => (a.Name === 'ReleaseBackupPlan') - (b.Name === 'ReleaseBackupPlan'));
    for (const op of ops) {
      const base = {};
      for (const p of op.Parameters) if (p.Required) base[p.Name] = valid(p);
      for (const p of op.Parameters) {
        for (const value of junk) {
          const r = await S.v1Request(node, 'POST', op.Name, { ...base, [p.Name]: value }, node.root);
          sent++;
          if (r.status >= 500 || !r.json) failures.push(`${op.Name} ${p.Name}=${JSON.stringify(value.slice(0, 20))}: ${r.status} ${r.text.slice(0, 200)}`);
        }
      }
    }
    assert.ok(sent > 2000, `sent ${sent}`);
    assert.deepEqual(failures, []);
  });
});
