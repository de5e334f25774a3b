// Browser harness for the console tests: Debian's Chromium driven by playwright-core (from
// tests/node/node_modules), a fresh profile per launch, screenshots into tests/artifacts/browser/,
// and the page's own errors collected so a test can assert there were none.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { chromium } = require(path.resolve(__dirname, '../../node/node_modules/playwright-core'));

const CHROMIUM = process.env.OPENDBS_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../artifacts/browser');
const CLI = process.env.OPENDBS_CLI || path.resolve(__dirname, '../../../build/opendbs');

// options.ignoreHTTPSErrors: accept the node's self-signed certificate; options.extraArgs: more
// Chromium switches.
async function launchBrowser({ extraArgs = [], ...options } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  // Everything the console loads must come from the node itself.
  const foreign = [];
  page.on('request', (r) => { if (!/^(https?:\/\/127\.0\.0\.1:\d+\/|data:|about:)/.test(r.url())) foreign.push(r.url()); });
  return {
    context, page, problems, foreign,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));  // sticky parts are drawn where the scroll left them
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Signs in through the form with `key` (default: the root key). signature: 'v1' | 'v3'.
async function signIn(page, node, { key = node.root, secret = key.accessKeySecret, signature = 'v1', secure = false } = {}) {
  await page.goto(`${node.endpoint(secure)}/console/`);
  await page.getByLabel('AccessKey ID').fill(key.accessKeyId);
  await page.getByLabel('AccessKey secret').fill(secret);
  await page.getByLabel('Signature').selectOption(signature);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// True when the page is no wider than its viewport (no horizontal scrolling).
async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.getClientRects().length)
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide };
  });
}

module.exports = { launchBrowser, screenshot, signIn, horizontalOverflow, ARTIFACTS, CLI };
