// TestNode: one `opendbs-test-node serve` process for a test file — a fresh data directory, free
// ports (port 0; the node logs the ones it took), root credentials from the environment — and the
// ways tests end it: SIGTERM (clean shutdown), kill -9 (crash), restart on the same data directory.
'use strict';

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');

const BINARY = process.env.OPENDBS_TEST_NODE || path.resolve(__dirname, '../../../build/opendbs-test-node');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`).
async function waitFor(what, probe, { timeoutMs = 20000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(intervalMs);
  }
}

function httpGetStatus(port, pathname) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

// One series' value in Prometheus text — `series` as exposed: `name` or `name{label="v",...}` —
// or undefined when the text has no such series.
function metricValue(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

class TestNode {
  // options.dataDir: reuse a directory; options.workers: concurrent tasks; options.env: extra env.
  constructor(options = {}) {
    this.dataDir = options.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-node-'));
    this.ownsDataDir = !options.dataDir;
    this.workers = options.workers || 8;
    this.extraEnv = options.env || {};
    this.root = {
      accessKeyId: 'LTAIroot' + crypto.randomBytes(6).toString('hex'),
      accessKeySecret: crypto.randomBytes(18).toString('base64url'),
    };
    this.proc = null;
    this.lines = [];  // every stderr line of every run, parsed when JSON
  }

  static async start(options) {
    const node = new TestNode(options);
    await node.launch();
    return node;
  }

  // Starts the process on this.dataDir and waits until it reports its ports and /healthz answers 200.
  async launch() {
    const env = {
      ...process.env,
      OPENDBS_ROOT_ACCESS_KEY_ID: this.root.accessKeyId,
      OPENDBS_ROOT_ACCESS_KEY_SECRET: this.root.accessKeySecret,
      ...this.extraEnv,
    };
    const args = ['serve', '--data-dir', this.dataDir, '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0',
      '--workers', String(this.workers)];
    const proc = spawn(BINARY, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    let buffered = '';
    const started = new Promise((resolve, reject) => {
      proc.on('error', reject);
      proc.on('exit', (code, signal) => reject(new Error(`node exited before start (${code ?? signal}): ` +
        this.lines.slice(-5).map((l) => l.raw).join('\n'))));
      proc.stderr.on('data', (chunk) => {
        buffered += chunk.toString();
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const raw = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let json = null;
          try { json = JSON.parse(raw); } catch { /* not a log line */ }
          this.lines.push({ raw, json });
          if (json && json.event === 'node_started') resolve(json);
        }
      });
    });
    try {
      const info = await started;
      this.nodeId = info.NodeId;
      this.port = info.Port;
      this.tlsPort = info.TlsPort;
      // Generous: a loaded 2-core CI machine has been seen to take over 10 s here.
      await waitFor('/healthz', async () => (await httpGetStatus(this.port, '/healthz')) === 200, { timeoutMs: 30000 });
    } catch (err) {
      // A node that did not come up must not outlive the test: its process would keep the test file
      // (and the suite) from ever ending.
      proc.kill('SIGKILL');
      throw err;
    }
  }

  // Log events (parsed JSON lines) named `event`, optionally matching fields.
  events(event, match = {}) {
    return this.lines.map((l) => l.json)
      .filter((j) => j && j.event === event && Object.entries(match).every(([k, v]) => j[k] === v));
  }

  endpoint(secure) {
    return `${secure ? 'https' : 'http'}://127.0.0.1:${secure ? this.tlsPort : this.port}`;
  }

  // The node's self-signed certificate (PEM), for clients that verify it.
  certificate() {
    return fs.readFileSync(path.join(this.dataDir, 'tls', 'cert.pem'), 'utf8');
  }

  // `opendbs admin --data-dir DIR ARGS...`; resolves to stdout, parsed as JSON when it is JSON.
  admin(...args) {
    return new Promise((resolve, reject) => {
      execFile(BINARY, ['admin', '--data-dir', this.dataDir, ...args], { env: process.env }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`admin ${args.join(' ')} failed: ${stderr || err.message}`));
        try { resolve(JSON.parse(stdout)); } catch { resolve(stdout); }
      });
    });
  }

  // SIGTERM and wait for a clean exit; SIGKILL after `killAfterMs`.
  async stop({ killAfterMs = 15000 } = {}) {
    if (!this.proc) return { code: 0 };
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return this.exited;
    proc.kill('SIGTERM');
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      proc.kill('SIGKILL');
    }, killAfterMs);
    const result = await this.exited;
    clearTimeout(timer);
    // A node that did not stop: its last log lines say what it was doing, for the failing assertion.
    return hung ? { ...result, lastLines: this.lines.slice(-15).map((l) => l.raw) } : result;
  }

  // kill -9: the node gets no chance to hand its tasks back.
  async kill9() {
    const proc = this.proc;
    this.proc = null;
    proc.kill('SIGKILL');
    return this.exited;
  }

  // Starts a new process on the same data directory (new ports).
  async restart() {
    if (this.proc) await this.stop();
    await this.launch();
  }

  // The node's /metrics text.
  metrics() {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: this.port, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
  }

  // One series of /metrics (see metricValue).
  async metric(series) {
    return metricValue(await this.metrics(), series);
  }

  // Stops the process and removes a data directory this object created.
  async dispose() {
    await this.stop();
    if (this.ownsDataDir && !process.env.OPENDBS_KEEP_DATA) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

module.exports = { TestNode, waitFor, sleep, metricValue, BINARY };
