// Runs the `opendbs` client against a TestNode (tests/node/lib/node_process.js): credentials and
// endpoint through the environment unless a test passes its own, exit code, stdout and stderr back.
'use strict';

const { execFile, spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');

const CLI = process.env.OPENDBS_CLI || path.resolve(__dirname, '../../../build/opendbs');

// The private HOMEs of this test process's commands, removed when it exits.
const HOMES = fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-cli-homes-'));
process.on('exit', () => fs.rmSync(HOMES, { recursive: true, force: true }));

// The environment a client command sees: the node's endpoint and root key, a private HOME (no
// profile files of the machine's user), and no OPENDBS_/ALIBABA_CLOUD_ variables of the caller.
function clientEnv(node, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('OPENDBS_') && !k.startsWith('ALIBABA_CLOUD_')) env[k] = v;
  env.HOME = fs.mkdtempSync(path.join(HOMES, 'home-'));
  if (node) {
    env.OPENDBS_ENDPOINT = node.endpoint(false);
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = node.root.accessKeyId;
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = node.root.accessKeySecret;
  }
  env.TZ = 'UTC';
  return { ...env, ...extra };
}

// Resolves to { code, stdout, stderr } (never rejects on a non-zero exit).
// `input` is written to stdin, which is then closed (an empty stdin when not given).
function run(args, { env, input = '', timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(CLI, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    // A command that exits without reading its stdin closes the pipe: the write then fails with EPIPE,
    // which is no failure of the command (its exit code and output are what the test reads).
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    child.stdin.end(input);
  });
}

// Runs and expects exit 0; returns stdout parsed as JSON when `json`.
async function ok(args, { env, json = false } = {}) {
  const r = await run(json ? [...args, '--output', 'json'] : args, { env });
  if (r.code !== 0) throw new Error(`opendbs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return json ? JSON.parse(r.stdout) : r;
}

// Runs a command line in a pseudo-terminal with util-linux `script`; the pty's output comes back.
function runInTerminal(args, { env, timeoutMs = 60000 } = {}) {
  const quoted = [CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    execFile('script', ['-qfec', quoted, '/dev/null'], { env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? err.code : 0, stdout, stderr });
      });
  });
}

// Starts a command without waiting for it (for Ctrl-C tests); output is collected on the object.
function start(args, { env } = {}) {
  const proc = spawn(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { proc, stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => { out.stdout += d; });
  proc.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return out;
}

// The TestEngine's shape for a plan's --database: BYTES at BYTES_PER_SECOND, a log file every MS.
function engine({ size = 256 * 1024, rate = 64 << 20, logMs = 300 } = {}) {
  return `size=${size};rate=${rate};log_ms=${logMs}`;
}

// `opendbs plan create` flags for a MySQL (TestEngine) plan.
function planFlags(name, { size, rate, logMs, extra = [] } = {}) {
  return ['plan', 'create', '--name', name, '--type', 'MySQL', '--method', 'physical', '--host', '127.0.0.1',
    '--port', '3306', '--user', 'backup', '--password', 'Secret-pass-1', '--database', engine({ size, rate, logMs }),
    ...extra];
}

module.exports = { CLI, clientEnv, run, ok, runInTerminal, start, engine, planFlags };
