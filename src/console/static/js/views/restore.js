// The restore wizard: 1 the moment, 2 the destination, 3 renames, 4 name and confirm; then
// CreateRestoreTask + StartRestoreTask, and the task's progress until it ends (#/plan/ID/restore?task=T
// follows an existing task).
import { call, items } from '../client.js';
import { field, fill, h } from '../dom.js';
import * as fmt from '../format.js';
import { badge, confirmDialog, pageHeader, progressBar, showError } from '../widgets.js';
import { restorableRanges } from './timeline.js';
import { destinationStep, momentStep, renamesStep } from './restore_steps.js';

function step(n, title, body) {
  return h('section', { class: 'card step', 'aria-labelledby': `step-${n}` },
    h('h2', { id: `step-${n}` }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, String(n)), title), body);
}

// Follows one restore task until it finishes or stops.
function followTask(slot, taskId, ctx) {
  const errors = h('div', { class: 'error-slot' });
  const body = h('div', { class: 'restore-progress', 'aria-live': 'polite' });
  fill(slot, step(5, 'Progress', h('div', {}, errors, body)));
  slot.scrollIntoView({ block: 'start' });
  let done = false;
  ctx.repeat(async () => {
    if (done) return;
    try {
      const r = await call('DescribeRestoreTaskList', { RestoreTaskId: taskId });
      const t = items(r, 'RestoreTaskDetail')[0];
      if (!t || !ctx.alive()) return;
      done = t.RestoreStatus === 'finish' || t.RestoreStatus === 'stop';
      fill(body,
        h('p', { class: 'restore-status', dataset: { status: t.RestoreStatus } }, 'Restore ',
          h('span', { class: 'mono' }, t.RestoreTaskId), ' ', badge(t.RestoreStatus)),
        h('div', { class: 'field' }, h('span', {}, 'Full data'), progressBar(t.FullDataRestoreProgress, 'Full data restored')),
        h('div', { class: 'field' }, h('span', {}, 'Log replay'), progressBar(t.ContinuousRestoreProgress, 'Log replayed')),
        h('p', {}, `To ${fmt.time(t.RestoreTime)} into ${t.RestoreDir || t.DestinationEndpointIpPort}.`),
        t.RestoreStatus === 'finish' ? h('p', { class: 'notice ok' }, `Finished at ${fmt.time(t.RestoreTaskFinishTime)} ` +
          `(${fmt.duration(t.RestoreTaskFinishTime - t.RestoreTaskCreateTime)} after it was created).`) : null,
        t.ErrMessage ? h('p', { class: 'notice warn' }, t.ErrMessage) : null,
        h('p', {}, h('a', { href: `#/plan/${encodeURIComponent(t.BackupPlanId)}` }, 'Back to the plan')));
    } catch (e) {
      showError(errors, e, 'Could not read the restore task');
    }
  }, 1000);
}

export default async function restoreView(root, [planId, taskId], ctx) {
  const planLink = h('a', { href: `#/plan/${encodeURIComponent(planId)}` }, planId);
  const title = h('span', {}, `Restore ${planId}`);
  root.append(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/plans' }, 'Backup plans'),
    ' / ', planLink, ' / restore'), pageHeader(title));
  const progressSlot = h('div', {});
  if (taskId) {
    root.append(progressSlot);
    followTask(progressSlot, taskId, ctx);
    return;
  }
  const [plans, sets, logs, rangeAnswer] = await Promise.all([
    call('DescribeBackupPlanList', { BackupPlanId: planId }),
    call('DescribeFullBackupList', { BackupPlanId: planId, PageSize: 100 }),
    call('DescribeIncrementBackupList', { BackupPlanId: planId, PageSize: 100 }),
    call('DescribeRestoreRangeInfo', { BackupPlanId: planId, BeginTimestampForRestore: 0, EndTimestampForRestore: Date.now() }),
  ]);
  const plan = items(plans, 'BackupPlanDetail')[0] || {};
  planLink.textContent = plan.BackupPlanName || planId;
  title.textContent = `Restore ${plan.BackupPlanName || planId}`;
  const ranges = restorableRanges(rangeAnswer);
  const moment = momentStep(ranges, { sets: items(sets, 'FullBackupFile'), logs: items(logs, 'IncrementBackupFile') });
  const destination = destinationStep();
  const renames = renamesStep();
  const taskName = h('input', { id: 'restore-name', required: true, maxlength: 128,
    value: `restore-${plan.BackupPlanName || planId}-${fmt.time(Date.now()).replace(/[ :]/g, '')}` });
  const errors = h('div', { class: 'error-slot' });
  const review = h('button', { type: 'submit', class: 'primary', id: 'restore-review', disabled: !ranges.length },
    'Review and restore');

  const form = h('form', { class: 'restore-wizard' },
    step(1, 'Choose the moment', moment.element),
    step(2, 'Choose the destination', destination.element),
    step(3, 'Rename databases', renames.element),
    step(4, 'Name and confirm', h('div', {}, field('Name of the restore task', taskName), errors,
      h('div', { class: 'actions' }, review))));
  root.append(form, progressSlot);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    destination.validate();
    if (!moment.validate() || !form.reportValidity()) return;
    showError(errors, null);
    const params = { BackupPlanId: planId, RestoreTaskName: taskName.value.trim(), ...moment.values(),
      ...destination.values(), ...renames.values() };
    const summary = h('dl', { class: 'summary' },
      h('dt', {}, 'Plan'), h('dd', {}, plan.BackupPlanName || planId),
      h('dt', {}, 'Moment'), h('dd', {}, `${fmt.time(moment.chosen())} (${fmt.utc(moment.chosen())})`),
      h('dt', {}, 'Into'), h('dd', {}, destination.describe()),
      h('dt', {}, 'Renames'), h('dd', {}, renames.describe()));
    let created = null;
    await confirmDialog({
      title: 'Start this restore?', body: h('div', {}, summary,
        h('p', { class: 'hint' }, 'The destination is overwritten. The restore runs on the node; you can leave this page.')),
      confirmText: 'Restore',
      onConfirm: async () => {
        try {
          created = (await call('CreateRestoreTask', params)).RestoreTaskId;
          await call('StartRestoreTask', { RestoreTaskId: created });
        } catch (e) {
          showError(errors, e, created ? `Restore ${created} was created but not started` : 'The restore was not created');
          created = null;
        }
      },
    });
    if (!created) return;
    for (const el of form.elements) el.disabled = true;
    history.replaceState(null, '', `#/plan/${encodeURIComponent(planId)}/restore?task=${encodeURIComponent(created)}`);
    followTask(progressSlot, created, ctx);
  });
}
