// Downloads end to end with the real SDK and real PostgreSQL 15: CreateFullBackupSetDownload, the task
// to finish in DescribeBackupSetDownloadTaskList, the file fetched at its signed link (and loaded back
// into a fresh database), a changed link refused with 403, and a format the set cannot take refused
// at the call. Needs a build of opendbs-test-node and PostgreSQL 15 (run: node --test download.test.js).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

const { execFileSync } = require('node:child_process');

const { TestNode, waitFor } = require('./lib/node_process');
const { makeClient, errorCode } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const { PgServer } = require('./lib/pg_server');
const P = require('./lib/plans');
const { backUpLogically } = require('./lib/pg_plans');

let node;
let pg;
let api;
let planId;
let setId;

// GET (or HEAD) `url`; resolves {status, headers, body (Buffer)}. HTTPS trusts exactly the node's
// self-signed certificate.
function get(url, method = 'GET') {
  const secure = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const tls = secure ? { ca: node.certificate(), checkServerIdentity: () => undefined } : {};
    (secure ? https : http).request(url, { method, timeout: 30000, ...tls }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

async function downloadTask(taskId) {
  const r = await api.call('DescribeBackupSetDownloadTaskList', { BackupSetDownloadTaskId: taskId });
  assert.equal(r.Items.BackupSetDownloadTaskDetail.length, 1);
  return r.Items.BackupSetDownloadTaskDetail[0];
}

async function waitDownloadFinished(taskId) {
  return waitFor(`download ${taskId}`, async () => {
    const d = await downloadTask(taskId);
    if (d.BackupSetDownloadStatus === 'stop') throw new Error(`download stopped: ${d.ErrMessage}`);
    return d.BackupSetDownloadStatus === 'finish' && d;
  }, { timeoutMs: 60000, intervalMs: 200 });
}

before(async () => {
  pg = await PgServer.start();
  pg.psql('CREATE DATABASE dlshop');
  pg.psql("CREATE TABLE t (id int PRIMARY KEY, v text, j jsonb); INSERT INTO t SELECT g, 'row ' || g || E'\\t,\"', "
    + "jsonb_build_object('g', g) FROM generate_series(1, 3000) g", 'dlshop');
  // Links for clients outside point where --download-url (here its environment variable) says.
  node = await TestNode.start({ workers: 2, env: { OPENDBS_DOWNLOAD_URL: 'https://backup.example.com:8443/' } });
  api = checked(makeClient(node, 'pop-get'));
  ({ planId, set: { BackupSetId: setId } } = await backUpLogically(api, { port: pg.port, database: 'dlshop', name: 'dl' }));
});

after(async () => {
  if (node) await node.dispose();
  if (pg) pg.stop();
});

test('a logical set downloaded as SQL is served at its signed link and loads into a fresh database', async () => {
  const { BackupSetDownloadTaskId: taskId } = await api.call('CreateFullBackupSetDownload',
    { BackupSetId: setId, BackupSetDataFormat: 'SQL' });
  const d = await waitDownloadFinished(taskId);
  assert.equal(d.BackupPlanId, planId);
  assert.equal(d.BackupSetId, setId);
  assert.equal(d.BackupSetDataFormat, 'SQL');
  assert.equal(d.BackupSetDbType, 'PostgreSQL');
  assert.equal(d.BackupSetJobType, 'cbs_backup_sub_full');
  assert.ok(d.BackupSetDownloadFinishTime >= d.BackupSetDownloadCreateTime);
  assert.match(d.BackupSetDownloadIntranetUrl,
    new RegExp(`^http://127\\.0\\.0\\.1:${node.port}/downloads/${taskId}/${setId}\\.sql\\?Expires=\\d+&Signature=[0-9a-f]{64}$`));
  assert.equal(d.BackupSetDownloadInternetUrl,
    d.BackupSetDownloadIntranetUrl.replace(`http://127.0.0.1:${node.port}`, 'https://backup.example.com:8443'));

  const res = await get(d.BackupSetDownloadIntranetUrl);
  assert.equal(res.status, 200);
  assert.equal(Number(res.headers['content-length']), d.BackupSetDataSize);
  assert.equal(res.body.length, d.BackupSetDataSize);
  assert.equal(res.headers['content-disposition'], `attachment; filename="${setId}.sql"`);
  const onDisk = fs.readFileSync(path.join(node.dataDir, 'downloads', `${taskId}.sql`));
  assert.equal(crypto.createHash('sha256').update(res.body).digest('hex'),
    crypto.createHash('sha256').update(onDisk).digest('hex'));
  assert.ok(res.body.toString().includes('COPY "public"."t" FROM stdin;'));

  const overTls = await get(d.BackupSetDownloadInternetUrl.replace('backup.example.com:8443', `127.0.0.1:${node.tlsPort}`));
  assert.equal(overTls.status, 200);
  assert.ok(overTls.body.equals(res.body), 'the same bytes over HTTPS');

  const head = await get(d.BackupSetDownloadIntranetUrl, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers['content-length']), d.BackupSetDataSize);
  assert.equal(head.body.length, 0);

  const file = path.join(pg.root, `${taskId}.sql`);
  fs.writeFileSync(file, res.body);
  pg.psql('CREATE DATABASE fresh');
  pg.psql('', 'fresh', { file });
  const sum = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t";
  assert.equal(pg.psql(sum, 'fresh'), pg.psql(sum, 'dlshop'));
});

test('a changed link is refused with 403 and a body that says why', async () => {
  const { BackupSetDownloadTaskId: taskId } = await api.call('CreateFullBackupSetDownload',
    { BackupSetId: setId, BackupSetDataFormat: 'CSV' });
  const d = await waitDownloadFinished(taskId);
  assert.match(d.BackupSetDownloadIntranetUrl, /\.csv\.tar\?/);
  const good = await get(d.BackupSetDownloadIntranetUrl);
  assert.equal(good.status, 200);
  assert.equal(good.body.length, d.BackupSetDataSize);

  const url = new URL(d.BackupSetDownloadIntranetUrl);
  const signature = url.searchParams.get('Signature');
  url.searchParams.set('Signature', (signature[0] === '0' ? '1' : '0') + signature.slice(1));
  const tampered = await get(url.toString());
  assert.equal(tampered.status, 403);
  const body = JSON.parse(tampered.body.toString());
  assert.equal(body.Code, 'Request.Forbidden');
  assert.match(body.Message, /signature does not match/);

  const later = new URL(d.BackupSetDownloadIntranetUrl);
  later.searchParams.set('Expires', String(Number(later.searchParams.get('Expires')) + 86400));
  assert.equal((await get(later.toString())).status, 403);
  const unsigned = new URL(d.BackupSetDownloadIntranetUrl);
  unsigned.search = '';
  assert.equal((await get(unsigned.toString())).status, 403);
});

test('a format the set cannot take is refused at the call, naming BackupSetDataFormat', async () => {
  let caught;
  try {
    await makeClient(node, 'pop-get').call('CreateFullBackupSetDownload', { BackupSetId: setId, BackupSetDataFormat: 'Native' });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, 'Native for a logical set must be refused');
  assert.equal(errorCode(caught), 'InvalidParameterValid');
  assert.match(caught.message, /BackupSetDataFormat/);
  assert.match(caught.message, /SQL or CSV/);
  const r = await api.call('DescribeBackupSetDownloadTaskList', { BackupPlanId: planId });
  assert.ok(r.Items.BackupSetDownloadTaskDetail.every((x) => x.BackupSetDataFormat !== 'Native'));
});

test('a physical set downloads as a tar of the data directory and a WAL segment as itself', async () => {
  const created = await api.call('CreateAndStartBackupPlan', {
    BackupMethod: 'physical', DatabaseType: 'PostgreSQL', InstanceClass: 'small', BackupPlanName: 'dl-physical',
    BackupStrategyType: 'manual', EnableBackupLog: true, SourceEndpointInstanceType: 'Other',
    SourceEndpointIP: '127.0.0.1', SourceEndpointPort: pg.port, SourceEndpointDatabaseName: 'postgres',
    SourceEndpointUserName: 'postgres', SourceEndpointPassword: 'unused-with-trust',
  });
  const plan = created.BackupPlanId;
  const full = await waitFor('the physical full backup', async () => {
    const sets = await P.fullSets(api, plan);
    if (sets.some((s) => s.BackupStatus === 'failed')) throw new Error(`backup failed: ${JSON.stringify(sets)}`);
    return sets.find((s) => s.BackupStatus === 'finish');
  }, { timeoutMs: 60000, intervalMs: 200 });

  // No BackupSetDataFormat: a physical set's only format, Native.
  const { BackupSetDownloadTaskId: fullTask } = await api.call('CreateFullBackupSetDownload', { BackupSetId: full.BackupSetId });
  const d = await waitDownloadFinished(fullTask);
  assert.equal(d.BackupSetDataFormat, 'Native');
  const tar = await get(d.BackupSetDownloadIntranetUrl);
  assert.equal(tar.status, 200);
  assert.equal(tar.body.length, d.BackupSetDataSize);
  const tarFile = path.join(pg.root, 'data.tar');
  fs.writeFileSync(tarFile, tar.body);
  const members = execFileSync('tar', ['-tf', tarFile]).toString().split('\n');
  for (const m of ['backup_label', 'PG_VERSION', 'global/pg_control', 'postgresql.conf']) assert.ok(members.includes(m), m);

  pg.psql('CREATE TABLE IF NOT EXISTS wal_dl (x int); INSERT INTO wal_dl VALUES (1)');
  pg.psql('SELECT pg_switch_wal()');
  const segment = await waitFor('a COMPLETED WAL segment', async () => {
    const files = await P.logFiles(api, plan);
    return files.find((f) => f.BackupStatus === 'COMPLETED');
  }, { timeoutMs: 60000, intervalMs: 200 });
  const { BackupSetDownloadTaskId: walTask } = await api.call('CreateIncrementBackupSetDownload',
    { BackupSetId: segment.BackupSetJobId, BackupSetName: segment.BackupSetId });
  const w = await waitDownloadFinished(walTask);
  assert.equal(w.BackupSetJobType, 'cbs_backup_sub_cont');
  assert.equal(w.BackupSetDataFormat, 'Native');
  assert.ok(w.BackupSetDownloadIntranetUrl.includes(`/downloads/${walTask}/${segment.BackupSetId}?`));
  const wal = await get(w.BackupSetDownloadIntranetUrl);
  assert.equal(wal.status, 200);
  assert.equal(wal.body.length, 16 * 1024 * 1024);
  assert.equal(wal.headers['content-disposition'], `attachment; filename="${segment.BackupSetId}"`);

  let caught;
  try {
    await makeClient(node, 'pop-get').call('CreateIncrementBackupSetDownload',
      { BackupSetId: segment.BackupSetJobId, BackupSetName: '000000010000000000000FFF' });
  } catch (err) {
    caught = err;
  }
  assert.equal(caught && errorCode(caught), 'InvalidJobId');
  await api.call('StopBackupPlan', { BackupPlanId: plan, StopMethod: 'ALL' });
});
