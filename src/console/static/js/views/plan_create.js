// A new backup plan in one form: what to back up, from where, when, and for how long. "Start now"
// sends CreateAndStartBackupPlan; otherwise CreateBackupPlan + ConfigureBackupPlan (the precheck runs
// and the plan waits for Start).
import { call } from '../client.js';
import { h, field, select } from '../dom.js';
import { enumOf } from '../schema.js';
import { pageHeader, showError } from '../widgets.js';
import { sourceFields } from './source_fields.js';
import { retentionFields, scheduleFields } from './strategy_fields.js';

const PREFERRED_TYPES = ['MySQL', 'MariaDB', 'PostgreSQL', 'SQLite'];

export default async function planCreateView(root, _params, ctx) {
  const [types, classes] = await Promise.all([enumOf('CreateBackupPlan', 'DatabaseType'),
    enumOf('CreateBackupPlan', 'InstanceClass')]);
  const typeOptions = [...PREFERRED_TYPES.filter((t) => types.includes(t)), ...types.filter((t) => !PREFERRED_TYPES.includes(t))];

  const name = h('input', { name: 'BackupPlanName', required: true, maxlength: 128, placeholder: 'e.g. shop-db nightly' });
  const dbType = select({ name: 'DatabaseType' }, typeOptions, 'MySQL');
  const method = select({ name: 'BackupMethod' }, [['logical', 'logical (dump)'], ['physical', 'physical (files)']], 'logical');
  const source = sourceFields(dbType);
  const logBackup = h('input', { type: 'checkbox', name: 'EnableBackupLog', id: 'create-log', checked: true });
  const startNow = h('input', { type: 'checkbox', name: 'start', id: 'create-start', checked: true });
  const instanceClass = select({ name: 'InstanceClass' }, classes.length ? classes : ['small'], 'small');
  const schedule = scheduleFields();
  const retention = retentionFields();
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create plan');

  const form = h('form', { class: 'plan-create' },
    pageHeader('New backup plan'),
    h('section', { class: 'card' }, h('h2', {}, 'What to back up'),
      h('div', { class: 'grid-3' }, field('Plan name', name), field('Database type', dbType), field('Backup method', method))),
    h('section', { class: 'card' }, h('h2', {}, 'Source database'), source.element),
    h('section', { class: 'card' }, h('h2', {}, 'Schedule'), schedule.element,
      h('div', { class: 'check' }, logBackup, h('label', { for: logBackup.id },
        'Back up the log continuously (restore to any second, not only to full backups)'))),
    h('section', { class: 'card' }, h('h2', {}, 'Retention'), retention.element,
      h('details', {}, h('summary', {}, 'More options'), field('Instance class (recorded only)', instanceClass))),
    errors,
    h('div', { class: 'actions sticky-actions' },
      h('div', { class: 'check' }, startNow, h('label', { for: startNow.id }, 'Start the first full backup now')),
      h('a', { class: 'button', href: '#/plans' }, 'Cancel'), submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    source.validate();
    schedule.validate();
    retention.validate();
    if (!form.reportValidity()) return;
    showError(errors, null);
    submit.disabled = true;
    const create = { BackupMethod: method.value, DatabaseType: dbType.value, InstanceClass: instanceClass.value };
    const configure = {
      BackupPlanName: name.value.trim(), ...source.values(), EnableBackupLog: logBackup.checked, ...schedule.values(),
      ...retention.values(),
    };
    let planId = null;
    try {
      if (startNow.checked) {
        planId = (await call('CreateAndStartBackupPlan', { ...create, ...configure })).BackupPlanId;
      } else {
        planId = (await call('CreateBackupPlan', create)).BackupPlanId;
        await call('ConfigureBackupPlan', { BackupPlanId: planId, ...configure });
      }
      ctx.navigate(`#/plan/${encodeURIComponent(planId)}`);
    } catch (e) {
      // A plan created but not configured stays in status wait: say so, so it is not created twice.
      showError(errors, e, planId ? `Plan ${planId} was created but not configured` : 'The plan was not created');
      if (planId) {
        errors.append(h('p', {}, 'Configure it in the ', h('a', {
          href: `#/explorer/ConfigureBackupPlan?${new URLSearchParams({ BackupPlanId: planId, ...create, ...configure,
            SourceEndpointPassword: '' })}`,
        }, 'API Explorer'), ' (the form is filled in except for the password), or release it from its page.'));
      }
      submit.disabled = false;
    }
  });
  root.append(form);
}
