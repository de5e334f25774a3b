// The scheduler, end to end: BackupStrategyType=simple runs a full backup at BackupStartTime (HH:mm,
// UTC) on the BackupPeriod weekdays; manual plans, paused plans and other weekdays get none. One wait
// for the next minute boundary covers all cases (up to ~75 s).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { TestNode, waitFor, sleep } = require('./lib/node_process');
const { makeClient } = require('./lib/clients');
const { checked } = require('./lib/envelope');
const P = require('./lib/plans');

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SCHEDULER_INTERVAL_MS = 5000;  // jobs::RuntimeOptions::scheduler_interval_ms

let node;
before(async () => { node = await TestNode.start({ workers: 4 }); });
after(async () => { await node.dispose(); });

test('a simple strategy backs up at BackupStartTime on BackupPeriod weekdays, and only running simple plans do', async (t) => {
  const api = checked(makeClient(node, 'pop-get'));
  // The next minute boundary at least 15 s away (time to set the plans up).
  let due = Math.ceil(Date.now() / 60000) * 60000;
  if (due - Date.now() < 15000) due += 60000;
  const at = new Date(due);
  const hhmm = at.toISOString().slice(11, 16);
  const today = WEEKDAYS[at.getUTCDay()];
  const otherDay = WEEKDAYS[(at.getUTCDay() + 3) % 7];

  const plan = async (strategy) => {
    const id = await P.createConfiguredPlan(api, { configure: { engine: { size: 64 << 10 }, ...strategy } });
    const first = (await api.call('StartBackupPlan', { BackupPlanId: id })).CreatedFullBackupsetId;
    await P.waitSetStatus(api, id, first, 'finish');
    return id;
  };
  const scheduled = await plan({ BackupStrategyType: 'simple', BackupPeriod: `${otherDay},${today}`, BackupStartTime: hhmm });
  const wrongDay = await plan({ BackupStrategyType: 'simple', BackupPeriod: otherDay, BackupStartTime: hhmm });
  const manual = await plan({ BackupStrategyType: 'manual', BackupPeriod: today, BackupStartTime: hhmm });
  const paused = await plan({ BackupStrategyType: 'simple', BackupPeriod: today, BackupStartTime: hhmm });
  await api.call('StopBackupPlan', { BackupPlanId: paused, StopMethod: 'PLAN' });
  assert.ok(Date.now() < due, 'the plans were ready before the scheduled time');
  t.diagnostic(`scheduled for ${at.toISOString()} (${today} ${hhmm} UTC), waiting ${due - Date.now()} ms`);

  const sets = await waitFor('the scheduled full backup', async () => {
    const list = await P.fullSets(api, scheduled);
    return list.length === 2 && list;
  }, { timeoutMs: due - Date.now() + SCHEDULER_INTERVAL_MS + 10000, intervalMs: 500 });
  const newest = sets.reduce((a, b) => (a.CreateTime > b.CreateTime ? a : b));
  assert.ok(newest.CreateTime >= due, `not before ${hhmm} (${newest.CreateTime - due} ms)`);
  assert.ok(newest.CreateTime <= due + SCHEDULER_INTERVAL_MS + 5000, `within one scheduler pass (${newest.CreateTime - due} ms late)`);
  await P.waitSetStatus(api, scheduled, newest.BackupSetId, 'finish');

  await sleep(SCHEDULER_INTERVAL_MS + 1000);
  assert.equal((await P.fullSets(api, scheduled)).length, 2, 'one scheduled run per due time');
  for (const [name, id] of [['another weekday', wrongDay], ['manual', manual], ['paused', paused]])
    assert.equal((await P.fullSets(api, id)).length, 1, `${name}: no scheduled backup`);
});
