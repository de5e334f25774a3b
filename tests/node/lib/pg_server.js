// PgServer: a throwaway PostgreSQL 15 for the node's tests — initdb into a temporary directory, a free
// port on 127.0.0.1, trust authentication. PostgreSQL refuses to run as root, so as root the server
// runs as the `postgres` user (runuser), as tests/postgres/pg_server.cpp does.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BIN = '/usr/lib/postgresql/15/bin';
const AS_ROOT = process.getuid && process.getuid() === 0;

function asServerUser(command, args) {
  if (AS_ROOT) return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' });
  return execFileSync(command, args, { stdio: 'pipe' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

class PgServer {
  static async start() {
    const server = new PgServer();
    server.root = fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-pg-'));
    fs.chmodSync(server.root, 0o755);
    server.dataDir = path.join(server.root, 'data');
    fs.mkdirSync(server.dataDir, { mode: 0o700 });
    if (AS_ROOT) execFileSync('chown', ['-R', 'postgres:postgres', server.root]);
    asServerUser(`${BIN}/initdb`, ['-A', 'trust', '-U', 'postgres', '-N', '-D', server.dataDir]);
    server.port = await freePort();
    fs.appendFileSync(path.join(server.dataDir, 'postgresql.conf'),
      `port = ${server.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${server.root}'\n`);
    asServerUser(`${BIN}/pg_ctl`, ['-w', '-t', '60', '-D', server.dataDir, '-l', path.join(server.root, 'server.log'), 'start']);
    return server;
  }

  // Runs SQL with psql; returns its unaligned, tuples-only output without the final newline.
  psql(sql, database = 'postgres', { file } = {}) {
    const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.port),
      '-U', 'postgres', '-d', database];
    if (file) args.push('-f', file);
    else args.push('-c', sql);
    return execFileSync(`${BIN}/psql`, args, { stdio: 'pipe' }).toString().replace(/\n$/, '');
  }

  stop() {
    try {
      asServerUser(`${BIN}/pg_ctl`, ['-w', '-m', 'fast', '-D', this.dataDir, 'stop']);
    } catch { /* already stopped */ }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

module.exports = { PgServer };
