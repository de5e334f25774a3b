// The API Explorer and sign-in errors in Chromium against a real opendbs-test-node: a wrong secret
// shows SignatureDoesNotMatch; signed in with V3, an action runs from a schema-generated form, and
// the generated `opendbs call` command, curl command and pop-core program give the same answer; a
// read-only RAM user can look but not start.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const { TestNode } = require('../node/lib/node_process');
const { makeClient } = require('../node/lib/clients');
const P = require('../node/lib/plans');
const { launchBrowser, screenshot, signIn, CLI } = require('./lib/browser');

const NODE_MODULES = path.resolve(__dirname, '../node/node_modules');

let node;
let browser;
let page;
let planId;

before(async () => {
  node = await TestNode.start({ workers: 4 });
  const api = makeClient(node, 'pop-post');
  planId = await P.createConfiguredPlan(api, { configure: { engine: { size: 512 << 10 } } });
  const { CreatedFullBackupsetId: setId } = await api.call('StartBackupPlan', { BackupPlanId: planId });
  await P.waitSetStatus(api, planId, setId, 'finish');
  await api.call('StopBackupPlan', { BackupPlanId: planId, StopMethod: 'ALL' });
  browser = await launchBrowser({ ignoreHTTPSErrors: true });
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.dispose();
});

function run(file, args, env) {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

// The answer without what differs from call to call.
function comparable(json) {
  const { RequestId, ...rest } = json;
  assert.match(RequestId, /^[0-9A-F-]{36}$/);
  return rest;
}

test('a wrong secret shows SignatureDoesNotMatch with its message and RequestId', async () => {
  await signIn(page, node, { secret: 'not-the-secret' });
  const box = page.getByRole('alert');
  await box.waitFor();
  assert.equal(await box.locator('.error-code').innerText(), 'SignatureDoesNotMatch');
  assert.match(await box.locator('.error-message').innerText(), /string to sign/i);
  assert.match(await box.locator('.error-request-id').innerText(), /^[0-9A-F-]{36}$/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a failed sign-in keeps nothing');
  await screenshot(page, '20-sign-in-wrong-secret');
});

test('the explorer runs an action signed with V3 and shows the request and the raw response', async () => {
  await signIn(page, node, { signature: 'v3' });
  await page.getByRole('heading', { name: 'Backup plans' }).waitFor();
  await page.getByRole('link', { name: 'API Explorer' }).click();
  await page.getByLabel('Filter actions').fill('fullbackup');
  await page.getByRole('link', { name: 'DescribeFullBackupList' }).click();
  await page.getByRole('heading', { name: /DescribeFullBackupList/ }).waitFor();
  await page.getByLabel(/^BackupPlanId/).fill(planId);
  await page.getByLabel(/^BackupSetStatus/).selectOption('finish');
  await page.getByLabel(/^PageSize/).fill('10');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.locator('#response-body').waitFor();
  assert.equal(await page.locator('#response-status').innerText(), 'HTTP 200');
  const shown = JSON.parse(await page.locator('#response-body').innerText());
  assert.equal(shown.Success, true);
  assert.equal(shown.Items.FullBackupFile.length, 1);
  await page.getByText('signature V3').waitFor();
  await page.locator('.exchange-request td', { hasText: planId }).first().waitFor();
  await screenshot(page, '21-explorer-run');

  // The generated `opendbs call` command gives the same answer.
  const cli = await page.locator('#code-cli').innerText();
  const command = cli.slice(cli.indexOf('opendbs call'));
  assert.match(command, new RegExp(`--BackupPlanId ${planId}`));
  const env = {
    PATH: `${path.dirname(CLI)}:${process.env.PATH}`, OPENDBS_ENDPOINT: node.endpoint(false),
    ALIBABA_CLOUD_ACCESS_KEY_ID: node.root.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: node.root.accessKeySecret,
  };
  const viaCli = await run('bash', ['-c', command], env);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.deepEqual(comparable(JSON.parse(viaCli.stdout)), comparable(shown));

  // The curl command replays a browser-signed GET once.
  await page.getByRole('tab', { name: 'curl' }).click();
  const curl = await page.locator('#code-curl').innerText();
  const curlLine = curl.split('\n').find((l) => l.startsWith('curl '));
  const viaCurl = await run('bash', ['-c', curlLine], {});
  assert.equal(viaCurl.code, 0, viaCurl.stderr);
  assert.deepEqual(comparable(JSON.parse(viaCurl.stdout)), comparable(shown));
  const replay = JSON.parse((await run('bash', ['-c', curlLine], {})).stdout);
  assert.equal(replay.Code, 'SignatureNonceUsed', 'the signed URL works once');

  // The pop-core program too.
  await page.getByRole('tab', { name: 'Node.js (pop-core)' }).click();
  const program = await page.locator('#code-node').innerText();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-explorer-'));
  fs.writeFileSync(path.join(dir, 'call.js'), program);
  const viaNode = await run(process.execPath, [path.join(dir, 'call.js')], { ...env, NODE_PATH: NODE_MODULES });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(viaNode.code, 0, viaNode.stderr);
  assert.deepEqual(comparable(JSON.parse(viaNode.stdout)), comparable(shown));
  await screenshot(page, '22-explorer-code');
});

test('the generated form enforces required parameters, enumerations and number ranges', async () => {
  await page.evaluate(() => { location.hash = '#/explorer/DescribeBackupPlanList'; });
  await page.getByRole('heading', { name: /DescribeBackupPlanList/ }).waitFor();
  const pageSize = page.getByLabel(/^PageSize/);
  await pageSize.fill('500');
  assert.match(await pageSize.evaluate((el) => el.validationMessage), /100/);
  const statuses = await page.getByLabel(/^BackupPlanStatus/).locator('option').allInnerTexts();
  assert.ok(statuses.includes('running') && statuses.includes('pause'));
  await page.evaluate(() => { location.hash = '#/explorer/StopBackupPlan'; });
  await page.getByRole('heading', { name: /StopBackupPlan/ }).waitFor();
  const hint = await page.locator('#param-StopMethod-hint').innerText();
  assert.match(hint, /ALL or PLAN/);
  await page.getByRole('button', { name: 'Run' }).click();
  assert.equal(await page.locator('#param-BackupPlanId').evaluate((el) => el.validity.valueMissing), true);
  assert.equal(await page.locator('#response-body').count(), 0, 'nothing was sent');
});

test('an API error in the explorer shows Code, Message and RequestId', async () => {
  await page.getByLabel(/^BackupPlanId/).fill('dbsnosuchplan1');
  await page.getByLabel(/^StopMethod/).selectOption('PLAN');
  await page.getByRole('button', { name: 'Run' }).click();
  const box = page.getByRole('alert');
  await box.waitFor();
  assert.equal(await box.locator('.error-code').innerText(), 'InvalidJobId');
  assert.match(await box.locator('.error-message').innerText(), /dbsnosuchplan1/);
  assert.equal(await page.locator('#response-status').innerText(), 'HTTP 404');
  await screenshot(page, '23-explorer-error');
});

test('a read-only RAM user sees the plans but Start answers Request.Forbidden', async () => {
  await node.admin('user', 'create', 'viewer');
  const key = await node.admin('accesskey', 'create', 'viewer');
  const policy = path.join(node.dataDir, 'viewer-policy.json');
  fs.writeFileSync(policy, JSON.stringify({ Version: '1', Statement: [
    { Effect: 'Allow', Action: ['dbs:Describe*'], Resource: '*' }] }));
  await node.admin('policy', 'attach', 'viewer', '--file', policy, '--policy-name', 'read-only');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, node, { key: { accessKeyId: key.AccessKeyId, accessKeySecret: key.AccessKeySecret } });
  await page.locator(`tr[data-plan-id="${planId}"]`).getByRole('link').click();
  await page.locator('.slot-sets tr[data-status="finish"]').first().waitFor();
  await page.getByRole('button', { name: 'Start' }).click();
  const box = page.getByRole('alert');
  await box.waitFor();
  assert.equal(await box.locator('.error-code').innerText(), 'Request.Forbidden');
  assert.equal((await P.describePlan(makeClient(node, 'pop-post'), planId)).BackupPlanStatus, 'pause');
  await screenshot(page, '24-read-only-user-forbidden');
});

test('over the TLS listener (V3 signs its Host), a plan page links to the explorer with the plan filled in', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, node, { secure: true, signature: 'v3' });
  await page.locator(`tr[data-plan-id="${planId}"]`).getByRole('link').click();
  await page.getByRole('link', { name: 'See this plan in the API Explorer' }).click();
  await page.getByRole('heading', { name: /DescribeBackupPlanList/ }).waitFor();
  assert.equal(await page.getByLabel(/^BackupPlanId/).inputValue(), planId);
  assert.equal(await page.getByLabel(/^ShowRecoverTimeRange/).inputValue(), 'true');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.locator('#response-body').waitFor();
  assert.equal(await page.locator('#response-status').innerText(), 'HTTP 200');
  const shown = JSON.parse(await page.locator('#response-body').innerText());
  assert.equal(shown.Items.BackupPlanDetail[0].BackupPlanId, planId);
  assert.ok(page.url().startsWith(`https://127.0.0.1:${node.tlsPort}/console/`));
});

test('on plain http from another host name (no WebCrypto there) signing still works, with a warning', async () => {
  // opendbs.test resolves to 127.0.0.1 for this browser only; an http:// page of a name other than
  // localhost is not a secure context, so the browser offers no crypto.subtle.
  const plain = await launchBrowser({ extraArgs: ['--host-resolver-rules=MAP opendbs.test 127.0.0.1'] });
  try {
    const p = plain.page;
    await p.goto(`http://opendbs.test:${node.port}/console/`);
    assert.equal(await p.evaluate(() => Boolean(window.isSecureContext || (crypto && crypto.subtle))), false);
    await p.getByText('This page came over plain HTTP').waitFor();
    for (const signature of ['v1', 'v3']) {
      await p.getByLabel('AccessKey ID').fill(node.root.accessKeyId);
      await p.getByLabel('AccessKey secret').fill(node.root.accessKeySecret);
      await p.getByLabel('Signature').selectOption(signature);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator(`tr[data-plan-id="${planId}"]`).waitFor();
      await p.getByRole('button', { name: 'Sign out' }).click();
    }
    assert.deepEqual(plain.problems, []);
  } finally {
    await plain.close();
  }
});

test('the explorer loaded nothing from elsewhere and logged no errors', () => {
  assert.deepEqual(browser.foreign, []);
  // The wrong secret, the unknown plan and the forbidden Start answer 4xx on purpose; the browser logs those.
  assert.deepEqual(browser.problems.filter((p) => !/status of 40[034]/.test(p)), []);
});
