// Logical PostgreSQL restores through the SDK into a real PostgreSQL 15 (DestinationEndpointInstanceType
// Other, the same server the set came from): RestoreObjects renames a database and a table,
// DuplicateConflict=renamenew restores beside a database that exists under "<db>_dbs_<UTC moment>",
// and without DuplicateConflict an existing database stops the restore with a message that says what
// to do, before anything is written.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { TestNode, waitFor } = require('./lib/node_process');
const { makeClient } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const { PgServer } = require('./lib/pg_server');
const P = require('./lib/plans');
const { backUpLogically } = require('./lib/pg_plans');

let node;
let pg;
let api;
let planId;
let set;

const CONTENT = "SELECT count(*) || ':' || md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o";

function databases() {
  return pg.psql('SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname').split('\n');
}

// CreateRestoreTask of the set into the test server with `extra` parameters, StartRestoreTask, and
// the task once it ended (finish or stop).
async function restore(extra) {
  const { RestoreTaskId: id } = await api.call('CreateRestoreTask', {
    BackupPlanId: planId, RestoreTaskName: `r${Date.now()}`, BackupSetId: set.BackupSetId,
    DestinationEndpointInstanceType: 'Other', DestinationEndpointIP: '127.0.0.1', DestinationEndpointPort: pg.port,
    DestinationEndpointUserName: 'postgres', DestinationEndpointPassword: 'unused-with-trust', ...extra,
  });
  await api.call('StartRestoreTask', { RestoreTaskId: id });
  return waitFor(`restore ${id}`, async () => {
    const d = await P.restoreTask(api, id);
    return ['finish', 'stop'].includes(d.RestoreStatus) && d;
  }, { timeoutMs: 60000, intervalMs: 200 });
}

// "shop_dbs_20261128T071500": the name renamenew gives `db` for a restore to `ms` (UTC).
function renamedName(db, ms) {
  return `${db}_dbs_${new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
}

before(async () => {
  pg = await PgServer.start();
  pg.psql('CREATE DATABASE shop');
  pg.psql("CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, price numeric(8,2)); "
    + "CREATE INDEX orders_item ON orders (item); "
    + "INSERT INTO orders SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 2000) g", 'shop');
  node = await TestNode.start({ workers: 2 });
  api = checked(makeClient(node, 'pop-post'));
  ({ planId, set } = await backUpLogically(api, { port: pg.port, database: 'shop', name: 'logical-restore' }));
  // Written after the backup: a restore must not bring it back, nor touch it.
  pg.psql("INSERT INTO orders VALUES (9999, 'after the backup', 1)", 'shop');
});

after(async () => {
  if (node) await node.dispose();
  if (pg) pg.stop();
});

test('RestoreObjects restores a database under a new name, with a renamed table and its rows and index', async () => {
  const d = await restore({
    RestoreObjects: '[{"DBName":"shop","NewDBName":"shop_copy","TableIncludes":[{"TableName":"orders","NewTableName":"orders_then"}]}]',
  });
  assert.equal(d.RestoreStatus, 'finish', d.ErrMessage);
  assert.equal(d.ErrMessage, '');
  assert.equal(d.FullDataRestoreProgress, 100);
  assert.ok(databases().includes('shop_copy'));
  assert.equal(pg.psql(CONTENT.replace('FROM orders', 'FROM orders_then'), 'shop_copy'),
    pg.psql(`${CONTENT} WHERE id <> 9999`, 'shop'));
  assert.equal(pg.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders_then'", 'shop_copy'), '2');
  assert.equal(pg.psql("SELECT to_regclass('public.orders') IS NULL", 'shop_copy'), 't');
  assert.equal(pg.psql('SELECT count(*) FROM orders WHERE id = 9999', 'shop'), '1', 'the source is untouched');
});

test('without DuplicateConflict a database that holds tables stops the restore before anything is written', async () => {
  const before = databases();
  const content = pg.psql(CONTENT, 'shop');
  const d = await restore({});
  assert.equal(d.RestoreStatus, 'stop');
  assert.match(d.ErrMessage, /destination database shop already has tables/);
  assert.match(d.ErrMessage, /DuplicateConflict=renamenew/);
  assert.match(d.ErrMessage, /RestoreObjects/);
  assert.ok(d.RestoreTaskFinishTime > 0);
  assert.deepEqual(databases(), before, 'no database was created');
  assert.equal(pg.psql(CONTENT, 'shop'), content, 'the existing database is unchanged');
  const job = await P.task(api, d.RestoreTaskId);
  assert.equal(job.JobState, 'failed');
  assert.match(job.ErrorMessage, /already has tables/);
});

test('DuplicateConflict=renamenew restores beside the existing database under <db>_dbs_<UTC moment>', async () => {
  const content = pg.psql(CONTENT, 'shop');
  const d = await restore({ DuplicateConflict: 'renamenew' });
  assert.equal(d.RestoreStatus, 'finish', d.ErrMessage);
  const name = renamedName('shop', d.RestoreTime);
  assert.ok(databases().includes(name), `${name} in ${databases()}`);
  // DescribeRestoreTaskList says where the data went: RestoreObjects as carried out.
  assert.deepEqual(JSON.parse(d.RestoreObjects), [{ DBName: 'shop', NewDBName: name }]);
  assert.equal(pg.psql(CONTENT, name), pg.psql(`${CONTENT} WHERE id <> 9999`, 'shop'));
  assert.equal(pg.psql(CONTENT, 'shop'), content, 'the existing database is unchanged');

  // A second such restore finds that name taken too and takes the next one.
  // Asked for a name that is taken as well (shop_copy, restored by the first test), renamenew renames
  // that one; RestoreObjects keeps what was asked and says what was done.
  const again = await restore({
    DuplicateConflict: 'renamenew',
    RestoreObjects: '[{"DBName":"shop","NewDBName":"shop_copy","TableIncludes":[{"TableName":"orders","NewTableName":"o2"}]}]',
  });
  assert.equal(again.RestoreStatus, 'finish', again.ErrMessage);
  const second = renamedName('shop_copy', again.RestoreTime);
  assert.ok(databases().includes(second), `${second} in ${databases()}`);
  assert.deepEqual(JSON.parse(again.RestoreObjects),
    [{ DBName: 'shop', NewDBName: second, TableIncludes: [{ TableName: 'orders', NewTableName: 'o2' }] }]);
  assert.equal(pg.psql(CONTENT.replace('FROM orders', 'FROM o2'), second), pg.psql(`${CONTENT} WHERE id <> 9999`, 'shop'));

  // The first choice taken too (by the restore above), the next one.
  const third = await restore({ DuplicateConflict: 'renamenew' });
  assert.equal(third.RestoreStatus, 'finish', third.ErrMessage);
  assert.ok(databases().includes(`${name}_2`), `${name}_2 in ${databases()}`);
  assert.deepEqual(JSON.parse(third.RestoreObjects), [{ DBName: 'shop', NewDBName: `${name}_2` }]);
});
