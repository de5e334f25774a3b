// --wait progress: a bar redrawn in place on a terminal (a pseudo-terminal from util-linux `script`),
// plain lines on a pipe; Ctrl-C stops the waiting, not the task (exit 130); --wait-timeout exits 11.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { TestNode, waitFor, sleep } = require('../node/lib/node_process');
const { clientEnv, run, ok, runInTerminal, start, planFlags } = require('./lib/cli');

let node;
let env;

test.before(async () => {
  node = await TestNode.start({ workers: 6 });
  env = clientEnv(node);
});
test.after(() => node && node.dispose());

// A plan whose full backup takes about `seconds` (at 2 MiB/s).
async function slowPlan(name, seconds) {
  return (await ok(planFlags(name, { size: seconds * (2 << 20), rate: 2 << 20 }), { env, json: true })).BackupPlanId;
}

test('on a terminal the bar is redrawn in place with \\r and shows percent, ETA and the final line', async () => {
  const id = await slowPlan('tty', 4);
  const r = await runInTerminal(['plan', 'start', id, '--wait'], { env });
  assert.equal(r.code, 0, r.stdout);
  const screen = r.stdout;
  const redraws = screen.split('\r').filter((s) => /^backup \w+ {2}\[[#-]{24}\] {2}\d+%/.test(s));
  assert.ok(redraws.length >= 3, `expected several in-place redraws, got ${JSON.stringify(screen)}`);
  assert.ok(screen.includes('\x1b[K'), 'each redraw clears the rest of the line');
  const percents = redraws.map((s) => Number(s.match(/\] {2}(\d+)%/)[1]));
  assert.ok(percents.some((p) => p > 0 && p < 100), `a percent in between: ${percents}`);
  for (let i = 1; i < percents.length; ++i) assert.ok(percents[i] >= percents[i - 1], `percent never goes back: ${percents}`);
  assert.ok(redraws.some((s) => /ETA \d+s/.test(s)), 'an ETA once progress is seen');
  assert.match(screen, /\r\x1b\[Kbackup \w+ finished: 8\.0 MiB \(\S+ \S+ stored\) in \d+s, consistent at /);
});

test('on a pipe it prints plain progress lines, no \\r and no escape sequences', async () => {
  const id = await slowPlan('pipe', 4);
  const r = await run(['plan', 'start', id, '--wait'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\x1b'), JSON.stringify(r.stderr));
  const lines = r.stderr.trim().split('\n');
  const progress = lines.filter((l) => /^backup \w+ {2}\d+%( {2}[\d.]+ [KMGT]?i?B)?( {2}[\d.]+ [KMGT]?i?B\/s)?( {2}ETA \d+s)? {2}elapsed \d+s$/.test(l));
  assert.ok(progress.length >= 2, `periodic lines: ${JSON.stringify(lines)}`);
  assert.ok(progress.length <= 8, `not one line per poll: ${progress.length}`);
  assert.match(lines[lines.length - 1], /^backup \w+ finished: 8\.0 MiB/);
  assert.match(r.stdout, /^Plan \w+ is running; full backup \w+ started\n$/, 'progress goes to stderr only');
});

test('Ctrl-C stops waiting with exit 130; the backup goes on and finishes', async () => {
  const id = await slowPlan('interrupt', 3);
  const waiting = start(['plan', 'start', id, '--wait'], { env });
  await waitFor('a progress line', async () => /backup \w+ {2}\d+%/.test(waiting.stderr));
  waiting.proc.kill('SIGINT');
  const { code } = await waiting.exited;
  assert.equal(code, 130);
  assert.match(waiting.stderr, /stopped waiting \(the task goes on\)\. Follow it with: opendbs backup list /);
  const setId = waiting.stdout.match(/full backup (\w+) started/)[1];
  const set = await waitFor('the set to finish anyway', async () => {
    const [s] = await ok(['backup', 'list', id], { env, json: true });
    return s.BackupStatus === 'finish' && s;
  }, { timeoutMs: 15000 });
  assert.equal(set.BackupSetId, setId);
});

test('--wait-timeout stops waiting with exit 11', async () => {
  const id = await slowPlan('timeout', 6);
  const r = await run(['plan', 'start', id, '--wait', '--wait-timeout', '1'], { env });
  assert.equal(r.code, 11, r.stderr);
  assert.match(r.stderr, /still running after the --wait-timeout; stopped waiting/);
  await ok(['plan', 'stop', id, '--all'], { env });
});

test('a backup stopped with plan stop --all while another client waits ends that wait with exit 10', async () => {
  const id = await slowPlan('stopped', 10);
  const waiting = start(['plan', 'start', id, '--wait'], { env });
  await waitFor('waiting', async () => /backup \w+ {2}\d+%/.test(waiting.stderr));
  await sleep(200);
  await ok(['plan', 'stop', id, '--all'], { env });
  const { code } = await waiting.exited;
  assert.equal(code, 10, waiting.stderr);
  assert.match(waiting.stderr, /backup \w+ stopped: stopped by request [0-9A-F-]{36}/);
});
