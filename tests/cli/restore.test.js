// `opendbs restore create|start|list|range`: restores to a moment (ISO time or epoch ms) or of a set,
// into a directory on the node, followed with --wait; refusals name what is wrong.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TestNode, waitFor } = require('../node/lib/node_process');
const { clientEnv, run, ok, planFlags } = require('./lib/cli');

const SIZE = 1 << 20;
let node;
let env;
let plan;
let setId;
let scratch;

test.before(async () => {
  node = await TestNode.start({ workers: 4 });
  env = clientEnv(node);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'opendbs-cli-restore-'));
  plan = (await ok(planFlags('restorable', { size: SIZE, logMs: 200, extra: ['--log'] }), { env, json: true })).BackupPlanId;
  const started = await ok(['plan', 'start', plan, '--wait'], { env, json: true });
  setId = started.CreatedFullBackupsetId;
  // Restorable until at least a second after the full backup.
  await waitFor('log chain past the set', async () => {
    const [range] = await ok(['restore', 'range', plan], { env, json: true });
    return range && range.EndTimestampForRestore - range.BeginTimestampForRestore > 1000 && range;
  });
});
test.after(async () => {
  if (node) await node.dispose();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('restore range lists the restorable range with its base set', async () => {
  const [range] = await ok(['restore', 'range', plan], { env, json: true });
  assert.equal(range.RangeType, 'range');
  assert.equal(range.FullBackupList.FullBackupDetail[0].BackupSetId, setId);
  const human = (await ok(['restore', 'range', plan], { env })).stdout;
  assert.match(human, /^KIND\s+FROM\s+TO\s+SPAN\s+UNTIL NOW\s+FULL SETS$/m);
  assert.match(human, new RegExp(`^range\\s+\\S+\\+00:00\\s+\\S+\\+00:00\\s+\\d+s\\s+\\S+.*${setId}$`, 'm'));
});

test('restore create --time (ISO) --dir --start --wait restores every byte', async () => {
  const [range] = await ok(['restore', 'range', plan], { env, json: true });
  const moment = new Date(range.BeginTimestampForRestore + 500).toISOString();
  const dir = path.join(scratch, 'iso');
  const r = await run(['restore', 'create', plan, '--time', moment, '--dir', dir, '--start', '--wait'], { env });
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.match(/^Created restore task (\w+) and started it$/m)[1];
  assert.match(r.stderr, new RegExp(`restore ${id} finished: ${dir} holds the data of `));
  assert.equal(fs.statSync(path.join(dir, 'data')).size, SIZE);

  const [task] = (await ok(['restore', 'list', plan], { env, json: true })).filter((t) => t.RestoreTaskId === id);
  assert.equal(task.RestoreStatus, 'finish');
  assert.equal(task.RestoreTime, range.BeginTimestampForRestore + 500);
  assert.equal(task.BackupSetId, setId);
});

test('restore create --time-ms without --start, then restore start --wait', async () => {
  const [range] = await ok(['restore', 'range', plan], { env, json: true });
  const dir = path.join(scratch, 'ms');
  const created = await ok(['restore', 'create', plan, '--time-ms', String(range.EndTimestampForRestore), '--dir', dir,
    '--name', 'by-ms'], { env, json: true });
  assert.equal(created.Started, false);
  let [task] = (await ok(['restore', 'list', plan], { env, json: true })).filter((t) => t.RestoreTaskId === created.RestoreTaskId);
  assert.equal(task.RestoreStatus, 'init');
  assert.equal(task.RestoreTaskName, 'by-ms');
  const r = await run(['restore', 'start', created.RestoreTaskId, '--wait'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Started restore task ${created.RestoreTaskId}\n`);
  assert.equal(fs.statSync(path.join(dir, 'data')).size, SIZE);
  const table = (await ok(['restore', 'list', plan], { env })).stdout;
  assert.match(table, /^RESTORE TASK\s+NAME\s+STATUS\s+RESTORES TO\s+FROM SET\s+DESTINATION\s+CREATED\s+MESSAGE$/m);
  assert.match(table, new RegExp(`^${created.RestoreTaskId}\\s+by-ms\\s+finish\\s+\\S+\\s+${setId}\\s+${dir}\\s`, 'm'));

  const again = await run(['restore', 'start', created.RestoreTaskId], { env });
  assert.equal(again.code, 6, 'a finished restore cannot start again');
  assert.match(again.stderr, /OperationDenied\.PlanStatus/);
});

test('restore create --set restores a backup set', async () => {
  const dir = path.join(scratch, 'set');
  await ok(['restore', 'create', plan, '--set', setId, '--dir', dir, '--start', '--wait'], { env });
  assert.equal(fs.statSync(path.join(dir, 'data')).size, SIZE);
});

test('restore create refuses a moment outside the ranges, and missing or malformed flags', async () => {
  const outside = await run(['restore', 'create', plan, '--time', '2001-01-01T00:00:00Z', '--dir', scratch], { env });
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /InvalidParameterValid: .*RestoreTime.*the nearest restorable range is/);

  const noWhat = await run(['restore', 'create', plan, '--dir', scratch], { env });
  assert.equal(noWhat.code, 2);
  assert.match(noWhat.stderr, /MissingParameter: say what to restore: --time, --time-ms or --set/);

  const noWhere = await run(['restore', 'create', plan, '--set', setId], { env });
  assert.equal(noWhere.code, 2);
  assert.match(noWhere.stderr, /say where to restore: --dir DIR/);

  const badTime = await run(['restore', 'create', plan, '--time', 'yesterday', '--dir', scratch], { env });
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--time value "yesterday" is not valid: expected a time like 2026-11-28T07:36:29Z/);

  const badRename = await run(['restore', 'create', plan, '--set', setId, '--dir', scratch, '--rename', 'db'], { env });
  assert.equal(badRename.code, 2);
  assert.match(badRename.stderr, /--rename value "db" is not valid: expected DB=NEWNAME/);

  const badConflict = await run(['restore', 'create', plan, '--set', setId, '--dir', scratch, '--on-conflict', 'keep'],
    { env });
  assert.equal(badConflict.code, 2);
  assert.match(badConflict.stderr, /--on-conflict/);

  const noPassword = await run(['restore', 'create', plan, '--set', setId, '--host', '127.0.0.1', '--port', '3306',
    '--user', 'root'], { env });
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /--password is needed \(or --password-file FILE, or OPENDBS_DESTINATION_PASSWORD\)/);
});

test('restore create --host with --password-file and --rename records the destination and the renames', async () => {
  const file = path.join(scratch, 'pw');
  fs.writeFileSync(file, 'Dest-pass-1\n');
  const created = await ok(['restore', 'create', plan, '--set', setId, '--host', '127.0.0.1', '--port', '3307',
    '--user', 'root', '--password-file', file, '--rename', 'shop=shop_copy', '--rename', 'crm=crm_old',
    '--on-conflict', 'renamenew'], { env, json: true });
  const [task] = (await ok(['restore', 'list', plan], { env, json: true })).filter((t) => t.RestoreTaskId === created.RestoreTaskId);
  assert.equal(task.DestinationEndpointInstanceType, 'other');
  assert.equal(task.DestinationEndpointIpPort, '127.0.0.1:3307');
  assert.equal(task.DestinationEndpointUserName, 'root');
  assert.deepEqual(JSON.parse(task.RestoreObjects), [
    { DBName: 'shop', NewDBName: 'shop_copy' }, { DBName: 'crm', NewDBName: 'crm_old' }]);
  assert.equal(task.DestinationEndpointPassword, undefined, 'the password is never returned');
});

test('restore start --wait exits 10 when the restore stops', async () => {
  // The TestEngine restores into RestoreDir only: a server destination fails, and --wait says so.
  const created = await ok(['restore', 'create', plan, '--set', setId, '--host', '127.0.0.1', '--port', '3307',
    '--user', 'root', '--password', 'x'], { env, json: true });
  const r = await run(['restore', 'start', created.RestoreTaskId, '--wait'], { env });
  assert.equal(r.code, 10, r.stderr);
  assert.match(r.stderr, new RegExp(`restore ${created.RestoreTaskId} stopped: the test engine restores into RestoreDir only`));
});
