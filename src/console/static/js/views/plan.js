// One plan: its summary and actions, what runs now (polled every 2 s), its history on a timeline,
// the schedule and retention editors, its backup sets and its restores.
import { call, items } from '../client.js';
import { fill, h } from '../dom.js';
import { pageHeader, showError } from '../widgets.js';
import * as sections from './plan_sections.js';
import { releasePlan, retentionEditor, scheduleEditor, stopPlan } from './plan_actions.js';
import { restorableRanges, timeline } from './timeline.js';

const POLL_MS = 2000;

// Everything the page shows, fetched in parallel. A part the key may not read is left empty.
async function fetchPlanState(planId) {
  const quiet = (p) => p.catch(() => null);
  const [planList, sets, logs, restores, ranges, precheck] = await Promise.all([
    call('DescribeBackupPlanList', { BackupPlanId: planId, ShowRecoverTimeRange: true }),
    quiet(call('DescribeFullBackupList', { BackupPlanId: planId, PageSize: 100, ShowProgress: 'true' })),
    quiet(call('DescribeIncrementBackupList', { BackupPlanId: planId, PageSize: 100 })),
    quiet(call('DescribeRestoreTaskList', { BackupPlanId: planId, PageSize: 30 })),
    quiet(call('DescribeRestoreRangeInfo', { BackupPlanId: planId, BeginTimestampForRestore: 0,
      EndTimestampForRestore: Date.now() })),
    quiet(call('DescribePreCheckProgressList', { BackupPlanId: planId })),
  ]);
  const plan = items(planList, 'BackupPlanDetail')[0];
  // The log backup's own task says whether it runs (its last file may stay open after a stop).
  const logList = items(logs, 'IncrementBackupFile');
  const newestLog = logList.reduce((a, b) => (!a || b.StartTime > a.StartTime ? b : a), null);
  const logJob = newestLog ? await quiet(call('DescribeJobErrorCode', { TaskId: newestLog.BackupSetJobId })) : null;
  if (!plan) {
    const e = new Error(`There is no plan ${planId} that this AccessKey can see.`);
    e.code = 'InvalidJobId';
    throw e;
  }
  return {
    plan, sets: items(sets, 'FullBackupFile'), logs: logList, logJob: logJob && logJob.Item,
    restores: items(restores, 'RestoreTaskDetail'), ranges: restorableRanges(ranges), precheck,
  };
}

// The page's frame: the title, the action buttons, a slot per section and where notices and errors go.
function layout(planId) {
  const card = (id, heading, ...body) => h('section', { class: 'card', 'aria-labelledby': `h-${id}` },
    h('h2', { id: `h-${id}` }, heading), ...body);
  const slots = Object.fromEntries(['summary', 'precheck', 'tasks', 'timeline', 'sets', 'restores', 'editors']
    .map((k) => [k, h('div', { class: `slot-${k}` })]));
  const buttons = {
    start: h('button', { type: 'button', class: 'primary', id: 'plan-start' }, 'Start'),
    stop: h('button', { type: 'button', id: 'plan-stop' }, 'Stop…'),
    restore: h('a', { class: 'button', id: 'plan-restore', href: `#/plan/${encodeURIComponent(planId)}/restore` },
      'Restore…'),
    logToggle: h('button', { type: 'button', id: 'plan-log-toggle' }, 'Log backup'),
    release: h('button', { type: 'button', class: 'danger-link', id: 'plan-release' }, 'Release…'),
  };
  const explore = h('a', { href: `#/explorer/DescribeBackupPlanList?BackupPlanId=${encodeURIComponent(planId)}` +
    '&ShowBackupStrategyInfo=true&ShowRecoverTimeRange=true' }, 'See this plan in the API Explorer');
  const title = h('span', {}, planId);
  const notice = h('div', { class: 'form-status', role: 'status' });
  const errors = h('div', { class: 'error-slot' });
  const element = [
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/plans' }, 'Backup plans'), ' / ', planId),
    pageHeader(title, ...Object.values(buttons)),
    notice, errors,
    h('div', { class: 'plan-grid' },
      card('summary', 'Overview', slots.summary, slots.precheck, h('p', { class: 'hint' }, explore)),
      card('tasks', 'Running now', slots.tasks)),
    card('timeline', 'Timeline', slots.timeline),
    card('sets', 'Full backup sets', slots.sets),
    card('restores', 'Restores', slots.restores),
    slots.editors,
  ];
  return { element, slots, buttons, title, notice, errors };
}

export default async function planView(root, [planId], ctx) {
  const { element, slots, buttons, title, notice, errors } = layout(planId);
  const { start, stop, logToggle, release } = buttons;
  const onError = (e, what) => showError(errors, e, what);
  root.append(...element);

  let state = null;
  async function refresh() {
    try {
      state = await fetchPlanState(planId);
    } catch (e) {
      if (ctx.alive()) onError(e, 'Could not read the plan');
      return;
    }
    if (!ctx.alive()) return;
    const { plan } = state;
    title.textContent = plan.BackupPlanName || planId;
    fill(slots.summary, sections.summary(plan));
    fill(slots.precheck, ['wait', 'init', 'check_pass'].includes(plan.BackupPlanStatus)
      ? sections.precheck(state.precheck) : null);
    fill(slots.tasks, sections.liveTasks(state.sets, state.restores, state.logs, state.logJob));
    fill(slots.timeline, timeline({ sets: state.sets, logs: state.logs, ranges: state.ranges }));
    fill(slots.sets, sections.backupSets(state.sets));
    fill(slots.restores, sections.restoreTasks(state.restores));
    start.disabled = plan.BackupPlanStatus === 'running';
    stop.disabled = !['running', 'pause'].includes(plan.BackupPlanStatus);
    logToggle.textContent = plan.EnableBackupLog ? 'Turn log backup off' : 'Turn log backup on';
    if (!slots.editors.firstChild) {
      slots.editors.append(h('div', { class: 'plan-grid' }, scheduleEditor(plan, refresh), retentionEditor(plan, refresh)));
    }
  }

  async function act(button, what, fn) {
    button.disabled = true;
    showError(errors, null);
    try {
      const message = await fn();
      if (message) notice.textContent = message;
    } catch (e) {
      onError(e, what);
    }
    button.disabled = false;
    await refresh();
  }

  start.addEventListener('click', () => act(start, 'The plan was not started', async () => {
    const r = await call('StartBackupPlan', { BackupPlanId: planId });
    return r.CreatedFullBackupsetId ? `Started: full backup ${r.CreatedFullBackupsetId} is running.` : 'Started.';
  }));
  stop.addEventListener('click', () => act(stop, 'The plan was not stopped', async () => {
    const method = await stopPlan(planId, onError);
    if (method === 'ALL') return 'Stopped: the schedule is paused and running tasks were cancelled.';
    return method === 'PLAN' ? 'Paused: no new scheduled backups; running tasks go on.' : '';
  }));
  logToggle.addEventListener('click', () => act(logToggle, 'The log backup was not changed', async () => {
    const on = state && state.plan.EnableBackupLog;
    await call(on ? 'DisableBackupLog' : 'EnableBackupLog', { BackupPlanId: planId });
    return on ? 'Log backup turned off.' : 'Log backup turned on; it runs while the plan runs.';
  }));
  release.addEventListener('click', async () => {
    if (await releasePlan(planId, onError)) ctx.navigate('#/plans');
  });

  ctx.repeat(refresh, POLL_MS);
}
