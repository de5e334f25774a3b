// What a script sees when things go wrong — messages on stderr naming the problem, and the exit codes
// of docs/CLI.md — plus `opendbs call`, profiles, `opendbs configure` and TLS flags.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { TestNode } = require('../node/lib/node_process');
const { clientEnv, run, ok } = require('./lib/cli');

let node;
let env;

test.before(async () => {
  node = await TestNode.start({ workers: 2 });
  env = clientEnv(node);
});
test.after(() => node && node.dispose());

function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

test('a wrong secret exits 3 with the server\'s SignatureDoesNotMatch', async () => {
  const r = await run(['plan', 'list'], { env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' } });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^opendbs plan list: SignatureDoesNotMatch: [\s\S]*server string to sign is:[\s\S]*\(RequestId [0-9A-F-]{36}\)\n/);
  assert.match(r.stderr, /\nhint: check the AccessKey \(--profile, ALIBABA_CLOUD_ACCESS_KEY_ID\/SECRET\) and the node/);
  assert.equal(r.stdout, '');
});

test('an unknown AccessKey exits 3, and no credentials at all exits 3 saying where to put them', async () => {
  const unknown = await run(['backup', 'list', 'dbsx'], { env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAInobody' } });
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /InvalidAccessKeyId\.NotFound/);
  const none = await run(['plan', 'list'], { env: clientEnv(null, { OPENDBS_ENDPOINT: node.endpoint(false) }) });
  assert.equal(none.code, 3);
  assert.match(none.stderr, /IncompleteSignature: no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
});

test('a RAM user without a policy exits 5 (Request.Forbidden)', async () => {
  await node.admin('user', 'create', 'reader');
  const key = await node.admin('accesskey', 'create', 'reader');
  const r = await run(['plan', 'list'], { env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_ID: key.AccessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: key.AccessKeySecret } });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /Request\.Forbidden/);
});

test('a node that refuses the connection exits 8 naming the endpoint', async () => {
  const port = await closedPort();
  const r = await run(['plan', 'list'], { env: { ...env, OPENDBS_ENDPOINT: `http://127.0.0.1:${port}` } });
  assert.equal(r.code, 8);
  assert.match(r.stderr, new RegExp(`^opendbs plan list: ServiceUnavailable: cannot reach http://127\\.0\\.0\\.1:${port}: Couldn't connect to server`));
  const call = await run(['call', 'DescribeRegions', '--endpoint', `127.0.0.1:${port}`], { env });
  assert.equal(call.code, 8);
});

test('missing flags and parameters exit 2 and name what is missing', async () => {
  const noType = await run(['plan', 'create', '--name', 'x', '--method', 'physical'], { env });
  assert.equal(noType.code, 2);
  assert.match(noType.stderr, /--type is required/);
  const badType = await run(['plan', 'create', '--name', 'x', '--type', 'Sybase', '--method', 'physical'], { env });
  assert.equal(badType.code, 2);
  assert.match(badType.stderr, /--type: Sybase not in/);
  const noPlan = await run(['plan', 'show'], { env });
  assert.equal(noPlan.code, 2);
  assert.match(noPlan.stderr, /PLAN is required/);
  const serverSide = await run(['plan', 'create', '--name', 'x', '--type', 'MySQL', '--method', 'physical'], { env });
  assert.equal(serverSide.code, 2);
  assert.match(serverSide.stderr, /^opendbs plan create: MissingParameter: The input parameter "SourceEndpointIP"/);
  const before = await ok(['plan', 'list'], { env, json: true });
  assert.equal(before.length, 0, 'a plan that cannot be configured is not left behind');
  const badSchedule = await run(['plan', 'create', '--name', 'x', '--type', 'MySQL', '--method', 'physical',
    '--schedule', 'Monday'], { env });
  assert.equal(badSchedule.code, 2);
  assert.match(badSchedule.stderr, /--schedule value "Monday" is not valid: expected DAYS@HH:MM in UTC/);
});

test('an unknown plan exits 4 (InvalidJobId)', async () => {
  for (const args of [['plan', 'start', 'dbsnothere'], ['backup', 'list', 'dbsnothere'], ['restore', 'range', 'dbsnothere']]) {
    const r = await run(args, { env });
    assert.equal(r.code, 4, args.join(' '));
    assert.match(r.stderr, /InvalidJobId: The specified job id "dbsnothere" does not exist/);
  }
});

test('opendbs call prints the JSON answer; --output table; --signature v1', async () => {
  const json = await ok(['call', 'DescribeRegions'], { env });
  const answer = JSON.parse(json.stdout);
  assert.equal(answer.Success, true);
  assert.ok(Array.isArray(answer.Regions.RegionCode));
  const created = JSON.parse((await ok(['call', 'CreateBackupPlan', '--BackupMethod', 'logical', '--DatabaseType', 'MySQL',
    '--InstanceClass=small', '--signature', 'v1'], { env })).stdout);
  assert.match(created.BackupPlanId, /^dbs/);
  const table = (await ok(['call', 'DescribeBackupPlanList', '--BackupPlanId', created.BackupPlanId, '--output', 'table'], { env })).stdout;
  const [header, row] = table.split('\n');
  assert.match(header, /BackupPlanId\s+BackupPlanName\s+BackupPlanStatus/);
  assert.match(row, new RegExp(`^${created.BackupPlanId}\\s+${created.BackupPlanId}\\s+wait\\s`));
});

test('opendbs call refuses unknown parameters and missing ones (exit 2); --help lists the parameters', async () => {
  const unknown = await run(['call', 'StopBackupPlan', '--BackupPlanId', 'x', '--StopMethod', 'ALL', '--Force', 'true'], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /StopBackupPlan has no parameter --Force \(see: opendbs call StopBackupPlan --help\)/);
  const missing = await run(['call', 'StopBackupPlan', '--BackupPlanId', 'x'], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /MissingParameter: The input parameter "StopMethod"/);
  const notAnAction = await run(['call', 'DropEverything'], { env });
  assert.equal(notAnAction.code, 2);
  const help = await ok(['call', 'StopBackupPlan', '--help'], { env });
  assert.match(help.stdout, /^opendbs call StopBackupPlan — /);
  assert.match(help.stdout, /--BackupPlanId \(required\)/);
  assert.match(help.stdout, /--StopMethod \(required\) {2}ALL or PLAN \[ALL\|PLAN\]/);
  const list = await ok(['call', '--list'], { env });
  assert.equal(list.stdout.trim().split('\n').length, 36);
});

test('profiles: ~/.opendbs/config.json written by opendbs configure (mode 0600), and the aliyun CLI\'s file', async () => {
  const home = clientEnv(null).HOME;
  const bare = clientEnv(null, { HOME: home });
  const configure = ['configure', '--profile', 'lab', '--endpoint', node.endpoint(false), '--access-key-id',
    node.root.accessKeyId];
  const empty = await run(configure, { env: bare });
  assert.equal(empty.code, 2, 'no secret on an empty stdin');
  assert.match(empty.stderr, /MissingParameter: The input parameter "--access-key-secret"/);
  const conf = path.join(home, '.opendbs', 'config.json');
  assert.ok(!fs.existsSync(conf));
  // The secret comes through stdin (a pipe here), not the command line.
  const saved = await run(configure, { env: bare, input: `${node.root.accessKeySecret}\n` });
  assert.equal(saved.stdout, `Saved profile lab in ${conf}\n`);
  assert.equal(fs.statSync(conf).mode & 0o777, 0o600);
  const written = JSON.parse(fs.readFileSync(conf, 'utf8'));
  assert.equal(written.current, 'lab');
  assert.equal(written.profiles[0].access_key_secret, node.root.accessKeySecret);

  assert.equal((await run(['plan', 'list', '--profile', 'lab'], { env: bare })).code, 0);
  assert.equal((await run(['plan', 'list'], { env: bare })).code, 0, 'the current profile without --profile');
  const missing = await run(['plan', 'list', '--profile', 'nope'], { env: bare });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--profile value "nope" is not valid: expected a profile in ~\/\.opendbs\/config\.json/);

  const aliyunHome = clientEnv(null).HOME;
  fs.mkdirSync(path.join(aliyunHome, '.aliyun'));
  fs.writeFileSync(path.join(aliyunHome, '.aliyun', 'config.json'), JSON.stringify({
    current: 'other', profiles: [
      { name: 'other', mode: 'AK', access_key_id: 'LTAIx', access_key_secret: 'y', region_id: 'cn-hangzhou' },
      { name: 'dbs', mode: 'AK', access_key_id: node.root.accessKeyId, access_key_secret: node.root.accessKeySecret,
        region_id: 'cn-hangzhou', output_format: 'json', language: 'en' }],
  }));
  const viaAliyun = await run(['plan', 'list', '--profile', 'dbs'], { env: clientEnv(null, { HOME: aliyunHome,
    OPENDBS_ENDPOINT: node.endpoint(false) }) });
  assert.equal(viaAliyun.code, 0, viaAliyun.stderr);
});

test('TLS: the self-signed certificate is refused by default, trusted with --ca-file, skipped with --insecure', async () => {
  const tls = { ...env, OPENDBS_ENDPOINT: node.endpoint(true) };
  const refused = await run(['plan', 'list'], { env: tls });
  assert.equal(refused.code, 8);
  assert.match(refused.stderr, /self-signed node\? use --ca-file or --insecure/);
  const cert = path.join(node.dataDir, 'tls', 'cert.pem');
  assert.equal((await run(['plan', 'list', '--ca-file', cert], { env: tls })).code, 0);
  assert.equal((await run(['plan', 'list', '--insecure'], { env: tls })).code, 0);
  assert.equal((await run(['call', 'DescribeRegions', '--insecure'], { env: tls })).code, 0);
});
