// `opendbs plan ...` and `opendbs backup list` against a test node: each friendly command does what its
// DBS calls do, prints tables for people and JSON for scripts, and exits with the documented codes.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { TestNode, waitFor } = require('../node/lib/node_process');
const { clientEnv, run, ok, planFlags } = require('./lib/cli');

let node;
let env;

test.before(async () => {
  node = await TestNode.start({ workers: 4 });
  env = clientEnv(node);
});
test.after(() => node && node.dispose());

async function planDetail(id) {
  return (await ok(['plan', 'show', id], { env, json: true })).Plan;
}

test('plan create configures a manual plan and leaves it to be started', async () => {
  const created = await ok(planFlags('nightly-orders'), { env, json: true });
  assert.match(created.BackupPlanId, /^dbs/);
  const plan = await waitFor('precheck', async () => {
    const p = await planDetail(created.BackupPlanId);
    return p.BackupPlanStatus === 'check_pass' && p;
  });
  assert.equal(plan.BackupPlanName, 'nightly-orders');
  assert.equal(plan.DatabaseType, 'MySQL');
  assert.equal(plan.BackupMethod, 'physical');
  assert.equal(plan.BackupStrategyType, 'manual');
  assert.equal(plan.SourceEndpointIpPort, '127.0.0.1:3306');

  const human = await ok(['plan', 'create', ...planFlags('second').slice(2)], { env });
  assert.match(human.stdout, /^Created plan dbs\w+ \(second\); its precheck runs now/);
});

test('plan create with --schedule, --retention-days and --log sets the strategy and storage', async () => {
  const { BackupPlanId: id } = await ok(planFlags('scheduled', {
    extra: ['--schedule', 'Monday,Thursday@01:00', '--retention-days', '30', '--log'],
  }), { env, json: true });
  const plan = await planDetail(id);
  assert.equal(plan.BackupStrategyType, 'simple');
  assert.equal(plan.BackupPeriod, 'Monday,Thursday');
  assert.equal(plan.BackupStartTime, '01:00');
  assert.equal(plan.BackupRetentionPeriod, 30);
  assert.equal(plan.EnableBackupLog, true);
});

test('plan configure changes only what is given (name, schedule, retention, log)', async () => {
  const { BackupPlanId: id } = await ok(planFlags('to-change'), { env, json: true });
  const r = await ok(['plan', 'configure', id, '--name', 'changed', '--schedule', 'daily@02:30',
    '--retention-days', '7', '--log'], { env });
  assert.match(r.stdout, /ModifyBackupPlanName: done/);
  assert.match(r.stdout, /ModifyBackupStrategy: done/);
  assert.match(r.stdout, /ModifyStorageStrategy: done/);
  assert.match(r.stdout, /EnableBackupLog: done/);
  let plan = await planDetail(id);
  assert.equal(plan.BackupPlanName, 'changed');
  assert.equal(plan.BackupPeriod, 'Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday');
  assert.equal(plan.BackupStartTime, '02:30');
  assert.equal(plan.BackupRetentionPeriod, 7);
  assert.equal(plan.EnableBackupLog, true);
  assert.equal(plan.SourceEndpointIpPort, '127.0.0.1:3306', 'the source is untouched');

  await ok(['plan', 'configure', id, '--manual', '--no-log'], { env });
  plan = await planDetail(id);
  assert.equal(plan.BackupStrategyType, 'manual');
  assert.equal(plan.EnableBackupLog, false);

  const nothing = await run(['plan', 'configure', id], { env });
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);

  const noPassword = await run(['plan', 'configure', id, '--host', '127.0.0.2'], { env });
  assert.equal(noPassword.code, 2, 'a changed source needs the password again');
  assert.match(noPassword.stderr, /MissingParameter: --password is needed .*OPENDBS_SOURCE_PASSWORD/);
  await ok(['plan', 'configure', id, '--host', '127.0.0.2'], { env: { ...env, OPENDBS_SOURCE_PASSWORD: 'x' } });
  assert.equal((await planDetail(id)).SourceEndpointIpPort, '127.0.0.2:3306');
});

test('plan start --wait follows the full backup; backup list shows the finished set', async () => {
  const { BackupPlanId: id } = await ok(planFlags('started', { size: 2 << 20, rate: 4 << 20 }), { env, json: true });
  const r = await run(['plan', 'start', id, '--wait'], { env });
  assert.equal(r.code, 0, r.stderr);
  const set = r.stdout.match(/^Plan (dbs\w+) is running; full backup (\w+) started$/m);
  assert.ok(set, r.stdout);
  assert.equal(set[1], id);
  assert.match(r.stderr, new RegExp(`backup ${set[2]} finished: 2\\.0 MiB`));

  const sets = await ok(['backup', 'list', id], { env, json: true });
  assert.equal(sets.length, 1);
  assert.equal(sets[0].BackupSetId, set[2]);
  assert.equal(sets[0].BackupStatus, 'finish');
  const table = (await ok(['backup', 'list', id], { env })).stdout.split('\n');
  assert.match(table[0], /^BACKUP SET\s+STATUS\s+STARTED\s+AGE\s+DURATION\s+SIZE\s+STORED\s+CONSISTENT AT\s+MESSAGE$/);
  assert.match(table[1], new RegExp(`^${set[2]}\\s+finish\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00\\s+(just now|\\d+s ago)\\s+\\d+s\\s+2\\.0 MiB`));

  const list = await ok(['plan', 'list'], { env, json: true });
  const row = list.find((p) => p.BackupPlanId === id);
  assert.equal(row.BackupPlanStatus, 'running');
  assert.equal(row.LastFinishedBackupSetId, set[2]);
  assert.ok(row.LastFinishedBackupTime > 0);
  assert.ok(row.BeginTimestampForRestore > 0 && row.EndTimestampForRestore >= row.BeginTimestampForRestore);
  const human = (await ok(['plan', 'list'], { env })).stdout;
  assert.match(human, /^PLAN\s+NAME\s+STATUS\s+TYPE\s+LAST FULL BACKUP\s+RESTORABLE$/m);
  assert.match(human, new RegExp(`^${id}\\s+started\\s+running\\s+MySQL/physical\\s+\\S+ \\((just now|\\d+s ago)\\)\\s+\\S+ → \\S+`, 'm'));
});

test('plan create --start --wait: precheck, start and the full backup in one command', async () => {
  const r = await run(planFlags('one-shot', { size: 1 << 20, extra: ['--start', '--wait'] }), { env });
  assert.equal(r.code, 0, r.stderr);
  const [, id, set] = r.stdout.match(/^Plan (dbs\w+) is running; full backup (\w+) started$/m);
  assert.match(r.stdout, new RegExp(`^Created plan ${id} \\(one-shot\\)`));
  assert.match(r.stderr, new RegExp(`^precheck of plan ${id} passed$`, 'm'));
  assert.match(r.stderr, new RegExp(`^backup ${set} finished: 1\\.0 MiB`, 'm'));
  const wrong = await run(planFlags('no-start', { extra: ['--wait'] }), { env });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--wait requires --start/);
});

test('plan show and backup list --log describe the log chain of a plan with log backup', async () => {
  const { BackupPlanId: id } = await ok(planFlags('with-log', { logMs: 200, extra: ['--log'] }), { env, json: true });
  await ok(['plan', 'start', id, '--wait'], { env });
  await waitFor('three log files', async () => (await ok(['backup', 'list', id, '--log'], { env, json: true })).length >= 3);
  const logs = await ok(['backup', 'list', id, '--log'], { env, json: true });
  assert.match(logs[0].BackupSetId, /^test-log\.\d{6}$/);
  const table = (await ok(['backup', 'list', id, '--log', '--limit', '2'], { env })).stdout;
  assert.match(table, /^LOG FILE\s+STATUS\s+FROM\s+TO\s+SIZE$/m);
  assert.match(table, /^\(2 newest of \d+; --limit N shows up to 100\)$/m);

  const shown = await ok(['plan', 'show', id], { env, json: true });
  assert.ok(shown.LogChain.Files >= 3);
  assert.match(shown.LogChain.Oldest.BackupSetId, /^test-log\.000000$/);
  assert.equal(shown.FullBackupSetCount, 1);
  assert.equal(shown.RestoreRanges[0].RangeType, 'range');
  assert.equal(shown.RestoreGap, '', 'an unbroken log chain hides nothing from the window');
  const listed = (await ok(['plan', 'list'], { env, json: true })).find((p) => p.BackupPlanId === id);
  assert.equal(listed.RestoreGap, '');
  const human = (await ok(['plan', 'show', id], { env })).stdout;
  assert.match(human, /^Restorable\s+\S+ → \S+ \((just now|\d+s ago)\)$/m, 'no gap after the window');
  assert.match(human, /^Database\s+MySQL, physical backup, log backup on$/m);
  assert.match(human, /^Log chain\n {2}files\s+\d+ \(/m);
  assert.match(human, /^Restorable\n {2}KIND\s+FROM\s+TO\n {2}range\s+/m);
});

test('plan stop --schedule-only lets the running backup finish; --all cancels it', async () => {
  const slow = { size: 64 << 20, rate: 4 << 20 };
  const { BackupPlanId: a } = await ok(planFlags('stop-plan', slow), { env, json: true });
  const started = await ok(['plan', 'start', a], { env, json: true });
  const r = await ok(['plan', 'stop', a, '--schedule-only'], { env });
  assert.match(r.stdout, /paused: no scheduled backups; running tasks go on/);
  assert.equal((await planDetail(a)).BackupPlanStatus, 'pause');
  let [set] = await ok(['backup', 'list', a], { env, json: true });
  assert.equal(set.BackupSetId, started.CreatedFullBackupsetId);
  assert.ok(['init', 'running'].includes(set.BackupStatus), set.BackupStatus);

  await ok(['plan', 'stop', a, '--all'], { env });
  set = await waitFor('set stopped', async () => {
    const [s] = await ok(['backup', 'list', a], { env, json: true });
    return s.BackupStatus === 'stop' && s;
  }, { timeoutMs: 10000 });
  assert.match(set.ErrMessage, /stopped by request/);
});

test('plan stop needs --all or --schedule-only, and --help explains both', async () => {
  const r = await run(['plan', 'stop', 'dbsxyz'], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--schedule-only \(StopMethod PLAN\) or --all \(StopMethod ALL\)/);
  const both = await run(['plan', 'stop', 'dbsxyz', '--all', '--schedule-only'], { env });
  assert.equal(both.code, 2);
  const help = await ok(['plan', 'stop', '--help'], { env });
  assert.match(help.stdout, /--schedule-only\s+\(StopMethod PLAN\) no more scheduled full backups/);
  assert.match(help.stdout, /--all\s+\(StopMethod ALL\) also cancel the plan's running full backups/);
});

test('plan start --wait exits 10 when the backup fails, create --start exits 12 when the precheck fails', async () => {
  const flags = planFlags('unreachable').map((f) => (f === '127.0.0.1' ? 'unreachable.invalid' : f));
  const r = await run([...flags, '--start', '--wait'], { env });
  assert.equal(r.code, 12, r.stderr);
  assert.match(r.stderr, /not started: precheck failed: CHECK_CONNECTION: cannot connect to unreachable\.invalid/);
  const id = r.stdout.match(/Created plan (dbs\w+)/)[1];
  const started = await run(['plan', 'start', id, '--wait'], { env });
  assert.equal(started.code, 10, started.stderr);
  assert.match(started.stderr, /backup \w+ failed: .*unreachable\.invalid/);
});

test('plan release removes the plan; later calls exit 4 (InvalidJobId)', async () => {
  const { BackupPlanId: id } = await ok(planFlags('to-release'), { env, json: true });
  const r = await ok(['plan', 'release', id], { env });
  assert.equal(r.stdout, `Plan ${id} released\n`);
  const gone = await run(['plan', 'show', id], { env });
  assert.equal(gone.code, 4);
  assert.match(gone.stderr, new RegExp(`^opendbs plan show: InvalidJobId: The specified job id "${id}" does not exist`));
});
