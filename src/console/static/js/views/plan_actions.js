// What one can do to a plan from its page: Start, Stop (with the ALL/PLAN choice in plain words),
// turn the log backup on or off, release it; and the schedule and retention editors.
import { call } from '../client.js';
import { h, uid } from '../dom.js';
import { confirmDialog, showError } from '../widgets.js';
import { retentionFields, scheduleFields } from './strategy_fields.js';

const STOP_CHOICES = [
  ['PLAN', 'Pause the schedule only',
    'No new scheduled full backups start. A full backup, the log backup or a restore that is running now ' +
    'carries on to its end.'],
  ['ALL', 'Stop everything now',
    'No new backups start, and every running full backup, the continuous log backup and every running restore ' +
    'of this plan are cancelled within seconds. Their partial data is discarded and they are marked "stop".'],
];

// Asks which kind of stop, then calls StopBackupPlan. Resolves to the method used or null.
export async function stopPlan(planId, onError) {
  const name = uid('stop');
  const body = h('fieldset', { class: 'choices' }, h('legend', {}, 'How should the plan stop?'),
    STOP_CHOICES.map(([value, title, text], i) => {
      const input = h('input', { type: 'radio', name, value, id: `${name}-${value}`, checked: i === 0 });
      return h('div', { class: 'choice' }, input, h('label', { for: input.id }, h('strong', {}, `${title} (${value})`),
        h('br'), h('span', { class: 'hint' }, text)));
    }),
    h('p', { class: 'hint' }, 'Either way, Start resumes the plan later; nothing already backed up is deleted.'));
  let method = null;
  const result = await confirmDialog({
    title: 'Stop this backup plan', body, confirmText: 'Stop plan', danger: true,
    onConfirm: async () => {
      method = body.querySelector(`input[name="${name}"]:checked`).value;
      try {
        await call('StopBackupPlan', { BackupPlanId: planId, StopMethod: method });
        return true;
      } catch (e) {
        onError(e, 'The plan was not stopped');
        return true;
      }
    },
  });
  return result === 'confirm' ? method : null;
}

export async function releasePlan(planId, onError) {
  let released = false;
  await confirmDialog({
    title: 'Release this plan', danger: true, confirmText: 'Release plan',
    body: h('p', {}, 'Releasing deletes the plan and stops everything it runs. Its backup sets can no longer be ' +
      'restored from the console.'),
    onConfirm: async () => {
      try {
        await call('ReleaseBackupPlan', { BackupPlanId: planId });
        released = true;
      } catch (e) {
        onError(e, 'The plan was not released');
      }
    },
  });
  return released;
}

// A form that sends `action` with the editor's values; shows what happened under its button.
function editorForm(title, editor, action, planId, onSaved) {
  const status = h('div', { class: 'form-status', role: 'status' });
  const errors = h('div', { class: 'error-slot' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h('form', { class: 'card editor', 'aria-label': title }, h('h2', {}, title), editor.element,
    errors, h('div', { class: 'actions' }, status, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    editor.validate();
    if (!form.reportValidity()) return;
    save.disabled = true;
    status.textContent = 'Saving…';
    showError(errors, null);
    try {
      await call(action, { BackupPlanId: planId, ...editor.values() });
      status.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      onSaved();
    } catch (e) {
      status.textContent = '';
      showError(errors, e, 'Not saved');
    }
    save.disabled = false;
  });
  return form;
}

export function scheduleEditor(plan, onSaved) {
  return editorForm('Schedule', scheduleFields(plan), 'ModifyBackupStrategy', plan.BackupPlanId, onSaved);
}

export function retentionEditor(plan, onSaved) {
  return editorForm('Retention', retentionFields(plan), 'ModifyStorageStrategy', plan.BackupPlanId, onSaved);
}
