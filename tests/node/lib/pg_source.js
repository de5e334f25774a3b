// PgSource: a throwaway PostgreSQL 15 server for the node's PostgreSQL suites — initdb into a temporary
// directory, a free port on 127.0.0.1, trust authentication (also for replication), the Unix socket in
// the directory. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user. The same
// class starts a server on a directory a restore wrote.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { waitFor } = require('./node_process');

const BIN = '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid && process.getuid() === 0;

function run(cmd, args, options = {}) {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function serverOwnedDir(tag) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `opendbs-pg-${tag}-`));
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  return dir;
}

class PgSource {
  constructor(dataDir, root) {
    this.dataDir = dataDir;
    this.root = root;  // removed by dispose()
    this.port = 0;
    this.running = false;
  }

  // A new cluster ready for physical backups; `conf` lines are appended to postgresql.conf.
  static async create(conf = '') {
    const root = serverOwnedDir('src');
    const source = new PgSource(path.join(root, 'data'), root);
    run(`${BIN}/initdb`, ['-A', 'trust', '-U', 'postgres', '-N', '-D', source.dataDir]);
    fs.appendFileSync(path.join(source.dataDir, 'postgresql.conf'), [
      "listen_addresses = '127.0.0.1'", 'wal_level = replica', 'max_wal_senders = 10', 'max_replication_slots = 10',
      'fsync = off', 'shared_buffers = 32MB', conf, ''].join('\n'));
    fs.appendFileSync(path.join(source.dataDir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
    await source.start();
    return source;
  }

  // A directory for a restore (RestoreDir) that the server user can reach, and later open().
  static restoreTarget() {
    return path.join(serverOwnedDir('restored'), 'data');
  }

  // A server on a directory a restore wrote into restoreTarget() (it becomes owned by the server user),
  // once recovery has reached the restore's target and promoted. pg_ctl -w returns as soon as the
  // server takes read-only connections, at the first consistent point of the replay: a query then
  // sees a moment between the backup's end and the target (seen in CI under load).
  static async open(dataDir) {
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
    const source = new PgSource(dataDir, path.dirname(dataDir));
    await source.start();
    await waitFor('the restored server promoted', async () => source.query('SELECT pg_is_in_recovery()') === 'f',
      { timeoutMs: 120000, intervalMs: 100 });
    return source;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const socketDir = this.root;
    run(`${BIN}/pg_ctl`, ['-w', '-t', '120', '-D', this.dataDir, '-l', path.join(socketDir, 'server.log'),
      '-o', `-p ${this.port} -k ${socketDir}`, 'start']);
    this.running = true;
  }

  stop() {
    if (!this.running) return;
    run(`${BIN}/pg_ctl`, ['-w', '-m', 'fast', '-D', this.dataDir, 'stop']);
    this.running = false;
  }

  // The first column of the first row of `sql` ('' when none), via psql.
  query(sql, database = 'postgres') {
    return execFileSync('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', database,
      '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0];
  }

  // Row count and md5 of the rows in text order: equal checksums, equal contents.
  checksum(table) {
    return this.query(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ${table} t`);
  }

  // pgbench -i at `scale` (about 15 MiB of data per unit).
  pgbenchInit(scale) {
    execFileSync(`${BIN}/pgbench`, ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', String(this.port),
      '-U', 'postgres', 'postgres'], { stdio: 'ignore' });
  }

  logTail() {
    try {
      return fs.readFileSync(path.join(this.root, 'server.log'), 'utf8').slice(-3000);
    } catch {
      return '';
    }
  }

  dispose() {
    try { this.stop(); } catch { /* already down */ }
    if (this.root) fs.rmSync(this.root, { recursive: true, force: true });
  }
}

module.exports = { PgSource };
