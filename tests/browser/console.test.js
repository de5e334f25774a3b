// The web console end to end in Chromium against a real opendbs-test-node: sign in, create and start
// a plan, watch its first full backup finish, edit its schedule and retention, stop it with ALL,
// restore through the wizard into a directory (the file appears), and a phone-width layout without
// horizontal scrolling.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { TestNode, waitFor } = require('../node/lib/node_process');
const { makeClient } = require('../node/lib/clients');
const P = require('../node/lib/plans');
const { launchBrowser, screenshot, signIn, horizontalOverflow } = require('./lib/browser');

const BACKUP_BYTES = 3 << 20;  // a full backup of 3 MiB at 2 MiB/s: running for ~1.5 s
const ENGINE = `size=${BACKUP_BYTES};rate=${2 << 20};log_ms=300`;

let node;
let browser;
let page;
let api;
let planId;
const restoreDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-console-restore-')), 'shop');

before(async () => {
  node = await TestNode.start({ workers: 8 });
  api = makeClient(node, 'pop-post');
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.dispose();
  fs.rmSync(path.dirname(restoreDir), { recursive: true, force: true });
});

test('/console redirects to /console/ and the files carry their types and no-cache', async () => {
  const redirect = await fetch(`${node.endpoint(false)}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/console/');
  const index = await fetch(`${node.endpoint(false)}/console/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const script = await fetch(`${node.endpoint(false)}/console/js/main.js`);
  assert.match(script.headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(`${node.endpoint(false)}/console/nope.js`)).status, 404);
});

test('signing in with the root AccessKey shows the plan list', async () => {
  await signIn(page, node);
  await page.getByRole('heading', { name: 'Backup plans' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing is kept in localStorage');
  const stored = await page.evaluate(() => sessionStorage.getItem('opendbs.console.credentials'));
  assert.ok(stored.includes(node.root.accessKeyId));
  await page.getByText('No backup plans yet').waitFor();
  await screenshot(page, '01-plans-empty');
});

test('a plan is created and started from the form, and its first full backup finishes', async () => {
  await page.getByRole('link', { name: 'New plan' }).click();
  await page.getByLabel('Plan name').fill('shop nightly');
  await page.getByLabel('Database type').selectOption('MySQL');
  await page.getByLabel('Host or IP').fill('127.0.0.1');
  await page.getByLabel('Port').fill('3306');
  await page.getByLabel('User', { exact: true }).fill('backup');
  await page.getByLabel('Password').fill('Secret-pass-1');
  await page.getByLabel('Database', { exact: true }).fill(ENGINE);
  await page.getByLabel('Thu', { exact: true }).check();
  await page.getByLabel('Start time (UTC)').fill('02:30');
  await screenshot(page, '02-plan-create');
  await page.getByRole('button', { name: 'Create plan' }).click();

  await page.waitForURL(/#\/plan\/dbs[a-z0-9]+$/);
  planId = decodeURIComponent(page.url().split('#/plan/')[1]);
  const plan = await P.describePlan(api, planId);
  assert.equal(plan.BackupPlanName, 'shop nightly');
  assert.equal(plan.BackupPeriod, 'Monday,Thursday');
  assert.equal(plan.BackupStartTime, '02:30');
  assert.equal(plan.EnableBackupLog, true);

  // The running full backup shows with its progress, then appears as a finished set.
  await page.locator('.slot-tasks [role="progressbar"]').first().waitFor({ timeout: 10000 });
  await screenshot(page, '03-plan-running');
  const finished = page.locator('.slot-sets tr[data-status="finish"]');
  await finished.first().waitFor({ timeout: 30000 });
  const setId = await finished.first().getAttribute('data-set-id');
  const set = await P.fullSet(api, planId, setId);
  assert.equal(set.BackupStatus, 'finish');
  assert.equal(set.BackupDataSize, BACKUP_BYTES);
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  // Wait until the log chain has made a restorable range, then look at the page.
  await page.locator('.tl-range.tl-range').first().waitFor({ timeout: 15000 });
  await page.getByRole('heading', { name: 'shop nightly' }).waitFor();
  await screenshot(page, '04-plan-finished');
});

test('the plan list shows status, last successful backup and restorable window', async () => {
  await page.getByRole('link', { name: 'Backup plans' }).first().click();
  const row = page.locator(`tr[data-plan-id="${planId}"]`);
  await row.waitFor();
  await row.getByText('running').waitFor();
  await row.locator('td[data-label="Last successful backup"]').getByText(/ago/).waitFor();
  await row.locator('td[data-label="Restorable window"] time').first().waitFor();
  await screenshot(page, '05-plans-list');
  await row.getByRole('link', { name: 'shop nightly' }).click();
  await page.getByRole('heading', { name: 'shop nightly' }).waitFor();
});

test('the schedule and retention editors change the plan', async () => {
  const schedule = page.getByRole('form', { name: 'Schedule' });
  await schedule.getByLabel(/Only when started/).check();
  await schedule.getByRole('button', { name: 'Save' }).click();
  await schedule.getByText(/^Saved at/).waitFor();
  const retention = page.getByRole('form', { name: 'Retention' });
  await retention.getByLabel('Archive after (days)').fill('20');
  await retention.getByRole('button', { name: 'Save' }).click();
  assert.match(await retention.getByLabel('Infrequent-access after (days)').evaluate((el) => el.validationMessage),
    /Infrequent access must start before archive/, 'IA 180 days is not before archive at 20 days');
  await retention.getByLabel('Keep full backups (days)').fill('90');
  await retention.getByLabel('Infrequent-access after (days)').fill('10');
  await retention.getByRole('button', { name: 'Save' }).click();
  await retention.getByText(/^Saved at/).waitFor();
  const plan = await P.describePlan(api, planId, { ShowBackupStrategyInfo: true });
  assert.equal(plan.BackupStrategyType, 'manual');
  assert.equal(plan.BackupRetentionPeriod, 90);
  assert.equal(plan.DuplicationInfrequentAccessPeriod, 10);
  assert.equal(plan.DuplicationArchivePeriod, 20);
  await page.locator('.slot-summary').getByText('only when started').waitFor();
});

test('Stop with ALL explains both choices, pauses the plan and ends its log backup', async () => {
  // The log backup is running (its open file is FILLING) before the stop.
  await waitFor('log backup running', async () => (await P.logFiles(api, planId)).some((f) => f.BackupStatus === 'FILLING'));
  await page.getByRole('button', { name: 'Stop…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Stop this backup plan' });
  await dialog.getByText('carries on to its end').waitFor();
  await dialog.getByText('cancelled within seconds').waitFor();
  await dialog.getByLabel(/Stop everything now \(ALL\)/).check();
  await screenshot(page, '06-stop-dialog');
  await dialog.getByRole('button', { name: 'Stop plan' }).click();
  await page.getByText('Stopped: the schedule is paused and running tasks were cancelled.').waitFor();
  assert.equal((await P.describePlan(api, planId)).BackupPlanStatus, 'pause');
  await waitFor('log backup stopped', async () => !(await P.logFiles(api, planId)).some((f) => f.BackupStatus === 'FILLING'),
    { timeoutMs: 10000 });
  await page.locator('.slot-summary .badge', { hasText: 'pause' }).waitFor();
  await page.getByText('Nothing is running for this plan right now.').waitFor({ timeout: 10000 });
});

test('a restore through the wizard only accepts restorable moments and writes the data into RestoreDir', async () => {
  await page.getByRole('link', { name: 'Restore…' }).click();
  await page.getByRole('heading', { name: 'Choose the moment' }).waitFor();
  const ranges = (await api.call('DescribeRestoreRangeInfo', { BackupPlanId: planId, BeginTimestampForRestore: 0,
    EndTimestampForRestore: Date.now() })).Items.DBSRecoverRange;
  const range = ranges.find((r) => r.RangeType === 'range');
  assert.ok(range, 'the log chain made a restorable range');

  // A moment before anything was backed up is refused with the nearest restorable moment.
  const exact = page.getByLabel(/Exact moment/);
  await exact.fill('2001-01-01T00:00:00');
  await exact.dispatchEvent('change');
  const message = await exact.evaluate((el) => el.validationMessage);
  assert.match(message, /Not restorable\. The nearest restorable moment is/);

  // A click on the timeline picks the nearest restorable moment: here, inside the range.
  const band = page.locator('.tl-range.tl-range').first();
  const box = await band.boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const readout = await page.locator('.moment-readout').innerText();
  assert.match(readout, /^Restore to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  const chosenUtc = readout.match(/; (\d{4}-\d\d-\d\dT[\d:.]+Z)\)/)[1];
  const chosen = Date.parse(chosenUtc);
  assert.ok(chosen >= range.BeginTimestampForRestore && chosen <= range.EndTimestampForRestore,
    `${chosenUtc} lies in the range`);

  await page.getByLabel(/A directory on this node/).check();
  await page.getByLabel('Directory on the node').fill(restoreDir);
  await page.getByRole('button', { name: 'Add a rename' }).click();
  await page.getByLabel('Database 1', { exact: true }).fill('shop');
  await page.getByLabel('New name for database 1').fill('shop_copy');
  await screenshot(page, '07-restore-wizard');
  await page.getByRole('button', { name: 'Review and restore' }).click();
  const dialog = page.getByRole('dialog', { name: 'Start this restore?' });
  await dialog.getByText(restoreDir).waitFor();
  await dialog.getByText('shop → shop_copy').waitFor();
  await dialog.getByRole('button', { name: 'Restore' }).click();

  await page.locator('.restore-status[data-status="finish"]').waitFor({ timeout: 30000 });
  await screenshot(page, '08-restore-finished');
  const taskId = decodeURIComponent(page.url().split('task=')[1]);
  const task = await P.restoreTask(api, taskId);
  assert.equal(task.RestoreStatus, 'finish');
  assert.equal(task.RestoreDir, restoreDir);
  assert.ok(Math.abs(task.RestoreTime - chosen) < 1000, 'the task restores to the moment picked');
  assert.equal(fs.statSync(path.join(restoreDir, 'data')).size, BACKUP_BYTES, 'the restored file is in RestoreDir');
});

test('at phone width (375 px) no page scrolls sideways and every control is labelled', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  const pages = [['#/plans', '09-phone-plans'], [`#/plan/${planId}`, '10-phone-plan'],
    [`#/plan/${planId}/restore`, '11-phone-restore'], ['#/explorer/CreateRestoreTask', '12-phone-explorer']];
  for (const [hash, shot] of pages) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.locator('main h1').first().waitFor();
    await page.waitForTimeout(hash.includes('plan/') ? 800 : 300);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => !el.labels.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], `${hash}: every control has a label`);
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.innerWidth, `${hash}: ${o.scrollWidth} > ${o.innerWidth} (${o.wide.join(', ')})`);
    await screenshot(page, shot);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('the console loaded nothing from elsewhere and logged no errors', () => {
  assert.deepEqual(browser.foreign, []);
  assert.deepEqual(browser.problems, []);
});
