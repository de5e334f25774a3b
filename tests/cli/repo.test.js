// `opendbs repo`: the repository on its own, without a node or catalog — what an operator uses for
// disaster recovery. Local directories and a real S3-compatible server (s3rver from npm).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, spawn } = require('node:child_process');
const { CLI, run, clientEnv } = require('./lib/cli');

const ROOT = path.resolve(__dirname, '../..');

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `opendbs-repo-${name}-`));
}

// A directory tree with a large random file (several chunks), a small one, an empty directory and an
// executable with an old mtime.
function makeTree(dir) {
  fs.mkdirSync(path.join(dir, 'sub/empty'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'big.bin'), crypto.randomBytes(5 << 20));
  fs.writeFileSync(path.join(dir, 'sub/small.txt'), 'hello\n');
  fs.writeFileSync(path.join(dir, 'sub/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o750 });
  fs.utimesSync(path.join(dir, 'sub/run.sh'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
}

// Every file and directory under `dir`: relative path → { mode, mtime (s), sha256 }.
function describeTree(dir) {
  const out = {};
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.statSync(path.join(dir, r));
      out[r] = { mode: st.mode, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) walk(r);
      else out[r].sha256 = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, r))).digest('hex');
    }
  };
  walk('.');
  return out;
}

// A repository session: `repo(...args)` runs `opendbs repo --repo URL <auth> ...args`.
function session(url, { env = clientEnv(null), auth } = {}) {
  const repo = (args, opts = {}) => run(['repo', '--repo', url, ...(opts.auth || auth), ...args], { env, ...opts });
  const ok = async (args, opts) => {
    const r = await repo(args, opts);
    assert.equal(r.code, 0, `opendbs repo ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  return { repo, ok };
}

function setIdOf(backupOutput) {
  const m = /set (\S+):/.exec(backupOutput.stdout + backupOutput.stderr);
  assert.ok(m, `no set id in: ${backupOutput.stdout}${backupOutput.stderr}`);
  return m[1];
}

// Backup, list, restore and check against the repository at `url`; returns the set id.
async function roundTrip(t, url, opts) {
  const { ok } = session(url, opts);
  const src = tempDir('src');
  makeTree(src);
  await ok(['init']);
  const setId = setIdOf(await ok(['backup', src, '--set', 'first-set']));
  assert.equal(setId, 'first-set');

  const listing = (await ok(['ls'])).stdout;
  assert.match(listing, /^first-set\s/m);
  const streams = (await ok(['ls', setId])).stdout;
  assert.match(streams, /big\.bin/);
  assert.match(streams, /sub\/empty/);

  const target = tempDir('target');
  await ok(['restore', setId, '--target', target]);
  const base = path.basename(src);
  assert.deepEqual(describeTree(path.join(target, base)), describeTree(src));

  const small = await ok(['restore', setId, '--stdout', '--stream', `${base}/sub/small.txt`]);
  assert.equal(small.stdout, 'hello\n');
  await ok(['check', '--read-data']);
  t.after(() => {
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(target, { recursive: true, force: true });
  });
  return setId;
}

test('a local repository round-trips a tree: contents, modes, mtimes and empty directories', async (t) => {
  const dir = tempDir('local');
  const pw = path.join(dir, 'pw');
  fs.writeFileSync(pw, 'correct horse battery staple\n');
  await roundTrip(t, path.join(dir, 'repo'), { auth: ['--password-file', pw] });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--stdin stores a stream under --name; the passphrase can come from OPENDBS_REPO_PASSWORD', async () => {
  const dir = tempDir('stdin');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'from the environment' });
  const { ok } = session(path.join(dir, 'repo'), { env, auth: [] });
  await ok(['init']);
  const dump = crypto.randomBytes(300000).toString('base64');
  const setId = setIdOf(await ok(['backup', '--stdin', '--name', 'dump.sql'], { input: dump }));
  assert.match((await ok(['ls', setId])).stdout, /dump\.sql/);
  assert.equal((await ok(['restore', setId, '--stdout'])).stdout, dump);
  assert.equal((await ok(['cat', setId, 'dump.sql'])).stdout, dump);
  const manifest = JSON.parse((await ok(['cat', setId])).stdout);
  assert.equal(manifest.set_id, setId);
  assert.equal(manifest.streams[0].size, dump.length);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a wrong passphrase is a clear error, never a crash or a garbage read', async () => {
  const dir = tempDir('wrongpw');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'right' });
  const repoDir = path.join(dir, 'repo');
  await session(repoDir, { env, auth: [] }).ok(['init']);
  const wrong = await session(repoDir, { env: clientEnv(null, { OPENDBS_REPO_PASSWORD: 'wrong' }), auth: [] }).repo(['ls']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /wrong passphrase or key file/);
  assert.doesNotMatch(wrong.stderr, /terminate|Segmentation|Aborted/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a flipped byte in a pack is reported with its pack and offset by check --read-data, which drops the chunk; restore then finds it missing', async () => {
  const dir = tempDir('corrupt');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'pw' });
  const repoDir = path.join(dir, 'repo');
  const { ok, repo } = session(repoDir, { env, auth: [] });
  await ok(['init']);
  const src = path.join(dir, 'src');
  makeTree(src);
  const setId = setIdOf(await ok(['backup', src]));
  const packDir = path.join(repoDir, 'data');
  const packs = fs.readdirSync(packDir, { recursive: true }).filter((f) => fs.statSync(path.join(packDir, f)).isFile());
  const biggest = packs.map((f) => path.join(packDir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const bytes = fs.readFileSync(biggest);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  fs.writeFileSync(biggest, bytes);
  const packId = path.basename(biggest);

  const structural = await repo(['check']);
  assert.equal(structural.code, 0, 'a flipped data byte leaves the structure intact');
  const deep = await repo(['check', '--read-data']);
  assert.notEqual(deep.code, 0);
  assert.match(deep.stderr, new RegExp(`pack ${packId} at offset \\d+`));
  // The damaged chunk left the index (docs/REPOSITORY.md §9, Damaged chunks), so that the next backup
  // stores it again; check names the set that uses it, and a restore finds the chunk missing.
  assert.match(deep.stderr, new RegExp(`set ${setId} cannot be restored`));
  const restore = await repo(['restore', setId, '--target', path.join(dir, 'out')]);
  assert.notEqual(restore.code, 0);
  assert.match(restore.stderr, /is missing: no index entry \(its pack was lost, or a read found it damaged/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('forget then prune frees what only the forgotten set used; check stays clean', async () => {
  const dir = tempDir('prune');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'pw' });
  const { ok } = session(path.join(dir, 'repo'), { env, auth: [] });
  await ok(['init']);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(a, 'kept'), crypto.randomBytes(1 << 20));
  fs.writeFileSync(path.join(b, 'dropped'), crypto.randomBytes(3 << 20));
  const keep = setIdOf(await ok(['backup', a]));
  const drop = setIdOf(await ok(['backup', b]));
  const storedOf = (text) => Number(/^stored (\d+)/m.exec(text)[1]);
  const before = storedOf((await ok(['stats'])).stdout);
  await ok(['forget', drop]);
  assert.doesNotMatch((await ok(['ls'])).stdout, new RegExp(drop));
  assert.match((await ok(['prune'])).stdout, /[1-9]\d* packs deleted|repacked/);
  const after = storedOf((await ok(['stats'])).stdout);
  assert.ok(after < before - (2 << 20), `stored ${before} -> ${after}`);
  await ok(['check', '--read-data']);
  const out = path.join(dir, 'out');
  await ok(['restore', keep, '--target', out]);
  assert.deepEqual(fs.readFileSync(path.join(out, 'a/kept')), fs.readFileSync(path.join(a, 'kept')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prune prints the packs it found lost and the sets that can no longer be restored', async () => {
  const dir = tempDir('lost');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'pw' });
  const { ok } = session(path.join(dir, 'repo'), { env, auth: [] });
  await ok(['init']);
  const a = path.join(dir, 'a');
  fs.mkdirSync(a);
  fs.writeFileSync(path.join(a, 'data'), crypto.randomBytes(1 << 20));
  const setId = setIdOf(await ok(['backup', a]));
  const clean = (await ok(['prune'])).stdout;
  assert.doesNotMatch(clean, /lost|can no longer/);
  const packs = [];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true })
    .forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : packs.push(path.join(d, e.name))));
  walk(path.join(dir, 'repo', 'data'));
  assert.ok(packs.length >= 1);
  for (const p of packs) fs.unlinkSync(p);
  const damaged = (await ok(['prune'])).stdout;
  assert.match(damaged, /pack [0-9a-f]{64} is lost \(\d+ chunks\)/);
  assert.match(damaged, new RegExp(`set ${setId} can no longer be restored in full`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('key slots: add a passphrase, open with it, remove the first, export the master key', async () => {
  const dir = tempDir('keys');
  const first = path.join(dir, 'first');
  const second = path.join(dir, 'second');
  fs.writeFileSync(first, 'first passphrase');
  fs.writeFileSync(second, 'second passphrase');
  const repoDir = path.join(dir, 'repo');
  const withFirst = session(repoDir, { auth: ['--password-file', first] });
  const withSecond = session(repoDir, { auth: ['--password-file', second] });
  await withFirst.ok(['init']);
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'f'), 'payload');
  const setId = setIdOf(await withFirst.ok(['backup', src]));

  await withFirst.ok(['key', 'add', '--new-password-file', second, '--label', 'ops team']);
  const slots = (await withSecond.ok(['key', 'list'])).stdout.trim().split('\n');
  assert.equal(slots.length, 2);
  const initial = slots.find((l) => /initial/.test(l)).split(/\s+/)[0];
  assert.match(slots.find((l) => /ops team/.test(l)), /passphrase/);

  await withSecond.ok(['key', 'remove', initial]);
  const refused = await withFirst.repo(['ls']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /wrong passphrase or key file/);

  const exported = (await withSecond.ok(['key', 'export'])).stdout;
  assert.equal(JSON.parse(exported).format, 'opendbs-master-key');
  const keyFile = path.join(dir, 'master.json');
  fs.writeFileSync(keyFile, exported);
  const withMaster = session(repoDir, { auth: ['--key-file', keyFile] });
  assert.equal((await withMaster.ok(['cat', setId, 'src/f'])).stdout, 'payload');
  fs.rmSync(dir, { recursive: true, force: true });
});

// Runs a shell command line in a pseudo-terminal (util-linux `script`); resolves with its output.
function inTerminal(commandLine, env) {
  return new Promise((resolve, reject) => {
    execFile('script', ['-qfec', commandLine, '/dev/null'], { env, timeout: 60000, maxBuffer: 16 << 20 },
      (err, stdout) => (err && typeof err.code !== 'number' ? reject(err) : resolve({ code: err ? err.code : 0, stdout })));
  });
}

test('a long backup shows live progress on a terminal and none on a pipe', async () => {
  const dir = tempDir('progress');
  const env = clientEnv(null, { OPENDBS_REPO_PASSWORD: 'pw' });
  const repoDir = path.join(dir, 'repo');
  await session(repoDir, { env, auth: [] }).ok(['init']);
  // Standard input that pauses for 1.5 s halfway, so the backup lasts past a progress tick however
  // fast the machine is.
  const slowInput = '(head -c 4000000 /dev/urandom; sleep 1.5; head -c 4000000 /dev/urandom)';
  const backup = `'${CLI}' repo --repo '${repoDir}' backup --stdin --name slow.bin`;
  const onTty = await inTerminal(`${slowInput} | ${backup}`, env);
  assert.equal(onTty.code, 0, onTty.stdout);
  const updates = onTty.stdout.split('\r').filter((l) => /backup [\d.]+ MiB \([\d.]+ [KMG]?i?B\/s\)/.test(l));
  assert.ok(updates.length >= 1, `no progress line in ${JSON.stringify(onTty.stdout.slice(0, 400))}`);
  assert.match(onTty.stdout, /set \S+: 7\.6 MiB read/);
  const onPipe = await new Promise((resolve) => execFile('sh', ['-c', `${slowInput} | ${backup} 2>&1`], { env },
    (err, stdout) => resolve({ code: err ? err.code : 0, stdout })));
  assert.equal(onPipe.code, 0);
  assert.doesNotMatch(onPipe.stdout, /\r|\x1b\[K/);
  assert.match(onPipe.stdout, /set \S+: 7\.6 MiB read/);
  fs.rmSync(dir, { recursive: true, force: true });
});

// s3rver from tests/node's npm packages, with the options src/repo/backend/s3rver_process.cpp uses.
async function startS3rver(t) {
  const program = path.join(ROOT, 'tests/node/node_modules/.bin/s3rver');
  const directory = tempDir('s3rver');
  const child = spawn(program, ['--directory', directory, '--address', '127.0.0.1', '--port', '0', '--silent',
    '--service-endpoint', 'localhost', '--configure-bucket', 'backups'], {
    env: { ...process.env, NODE_OPTIONS: `--openssl-legacy-provider --require ${ROOT}/src/repo/backend/s3rver_write_fix.js` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    child.kill();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (d) => {
      seen += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
}

test('an s3:// repository on a real S3-compatible server round-trips a tree', async (t) => {
  const port = await startS3rver(t);
  const env = clientEnv(null, {
    OPENDBS_REPO_PASSWORD: 'pw',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    OPENDBS_S3_ENDPOINT: `http://127.0.0.1:${port}`,
  });
  const url = 's3://backups/team-a/pg?part_size=5MiB&multipart_threshold=5MiB';
  const setId = await roundTrip(t, url, { env, auth: [] });
  // Objects really are in the bucket under the prefix, and a second repository beside it is separate.
  const other = session('s3://backups/team-b', { env, auth: [] });
  await other.ok(['init']);
  assert.doesNotMatch((await other.ok(['ls'])).stdout, new RegExp(setId));
});
