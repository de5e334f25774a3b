// The schedule and retention inputs, shared by the new-plan form and the plan page's editors.
import { h, field, uid } from '../dom.js';
import { zoneName } from '../format.js';

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

// Full backup schedule: strategy (simple = on a schedule, manual = only when started), weekdays,
// start time in UTC. values() gives BackupStrategyType, BackupPeriod, BackupStartTime.
export function scheduleFields(plan = {}) {
  const name = uid('strategy');
  const current = plan.BackupStrategyType || 'simple';
  const radio = (value, text, hint) => {
    const input = h('input', { type: 'radio', name, value, id: uid('strategy'), checked: current === value });
    return h('div', { class: 'choice' }, input, h('label', { for: input.id }, h('strong', {}, text), h('br'),
      h('span', { class: 'hint' }, hint)));
  };
  const days = new Set(String(plan.BackupPeriod || 'Monday').split(',').map((d) => d.trim().toLowerCase()));
  const boxes = WEEKDAYS.map((d) => h('input', { type: 'checkbox', value: d, id: uid('day'),
    checked: days.has(d.toLowerCase()) }));
  const startTime = h('input', { type: 'time', name: 'BackupStartTime', required: true,
    value: plan.BackupStartTime || '03:00' });
  const localHint = h('span', {});
  const showLocal = () => {
    const [hh, mm] = (startTime.value || '00:00').split(':').map(Number);
    const d = new Date(Date.UTC(2000, 0, 3, hh, mm));
    localHint.textContent = `In UTC. That is ${String(d.getHours()).padStart(2, '0')}:` +
      `${String(d.getMinutes()).padStart(2, '0')} in this browser's zone (${zoneName()}).`;
  };
  startTime.addEventListener('input', showLocal);
  showLocal();

  const dayGroup = h('fieldset', { class: 'weekdays' }, h('legend', {}, 'Full backup on'),
    boxes.map((b) => h('span', { class: 'day' }, b, h('label', { for: b.id }, b.value.slice(0, 3)))));
  const element = h('div', { class: 'strategy' },
    h('fieldset', { class: 'choices' }, h('legend', {}, 'When full backups run'),
      radio('simple', 'On a schedule', 'A full backup on each chosen weekday at the start time.'),
      radio('manual', 'Only when started', 'Full backups run only when you press Start (or call StartBackupPlan).')),
    dayGroup,
    field('Start time (UTC)', startTime, localHint));

  const strategy = () => element.querySelector(`input[name="${name}"]:checked`).value;
  const sync = () => {
    const manual = strategy() === 'manual';
    dayGroup.disabled = manual;
    startTime.disabled = manual;
  };
  element.addEventListener('change', sync);
  sync();
  // The weekday message must go as soon as a day is ticked, or the browser keeps refusing to submit.
  element.addEventListener('change', () => {
    if (boxes.some((b) => b.checked) || strategy() === 'manual') boxes[0].setCustomValidity('');
  });

  return {
    element,
    // Reports a problem on the first weekday box (shown by the browser on submit); true when valid.
    validate() {
      const none = strategy() === 'simple' && !boxes.some((b) => b.checked);
      boxes[0].setCustomValidity(none ? 'Choose at least one weekday.' : '');
      return !none;
    },
    values() {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      return {
        BackupStrategyType: strategy(),
        BackupPeriod: (chosen.length ? chosen : ['Monday']).join(','),
        BackupStartTime: startTime.value || '03:00',
      };
    },
  };
}

// Retention in days: sets move to infrequent access, then archive, then expire (IA < archive < kept).
export function retentionFields(plan = {}) {
  const num = (name, value) => h('input', { type: 'number', name, min: 0, max: 1825, step: 1, required: true, value });
  const keep = num('BackupRetentionPeriod', plan.BackupRetentionPeriod ?? 730);
  const ia = num('DuplicationInfrequentAccessPeriod', plan.DuplicationInfrequentAccessPeriod ?? 180);
  const archive = num('DuplicationArchivePeriod', plan.DuplicationArchivePeriod ?? 365);
  const element = h('div', { class: 'retention grid-3' },
    field('Keep full backups (days)', keep, 'After this many days a set expires and its space is freed (0–1825).'),
    field('Infrequent-access after (days)', ia, 'Must be less than the archive period.'),
    field('Archive after (days)', archive, 'Must be less than the retention period.'));
  // Checked as the user types: the browser refuses to submit while a field still carries a message.
  element.addEventListener('input', () => validate());
  function validate() {
    const [k, i, a] = [keep, ia, archive].map((x) => Number(x.value));
    ia.setCustomValidity(i < a ? '' : 'Infrequent access must start before archive.');
    archive.setCustomValidity(a < k ? '' : 'Archive must start before the retention period ends.');
    return i < a && a < k;
  }
  return {
    element,
    validate,
    values: () => ({
      BackupRetentionPeriod: keep.value, DuplicationInfrequentAccessPeriod: ia.value, DuplicationArchivePeriod: archive.value,
    }),
  };
}
