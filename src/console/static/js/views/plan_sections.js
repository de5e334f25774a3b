// The read-only parts of the plan page, each a function of the data last fetched: the summary, the
// precheck, the live tasks, the backup sets and the restore tasks.
import { h } from '../dom.js';
import * as fmt from '../format.js';
import { badge, progressBar, table } from '../widgets.js';

export function summary(plan) {
  const row = (term, ...desc) => [h('dt', {}, term), h('dd', {}, ...desc)];
  return h('dl', { class: 'summary' },
    row('Status', badge(plan.BackupPlanStatus)),
    row('Database', `${plan.DatabaseType} · ${plan.BackupMethod}`),
    row('Source', `${plan.SourceEndpointInstanceType || '—'} ${plan.SourceEndpointIpPort || ''}`.trim()),
    row('Schedule', plan.BackupStrategyType === 'manual' ? 'only when started'
      : `${plan.BackupPeriod} at ${plan.BackupStartTime} UTC`),
    row('Log backup', plan.EnableBackupLog ? 'continuous' : 'off'),
    row('Retention', `${plan.BackupRetentionPeriod} days`),
    row('Restorable window', plan.BeginTimestampForRestore
      ? h('span', {}, fmt.timeEl(plan.BeginTimestampForRestore), ' → ', fmt.timeEl(plan.EndTimestampForRestore))
      : h('span', { class: 'muted' }, 'nothing restorable yet')),
    row('Created', fmt.timeEl(plan.BackupPlanCreateTime)),
    plan.ErrMessage ? row('Last error', h('span', { class: 'error-text' }, plan.ErrMessage)) : null);
}

export function precheck(answer) {
  const list = (answer && answer.Items && answer.Items.PreCheckProgressDetail) || [];
  if (!answer || !list.length) return null;
  return h('div', { class: 'precheck' },
    h('p', {}, 'Precheck: ', badge(answer.Status), ` ${answer.Progress ?? 0}%`),
    h('ul', { class: 'checklist' }, list.map((i) => h('li', {}, badge(i.State), ' ', i.Item || i.JobName || '',
      i.ErrMsg ? h('span', { class: 'error-text' }, ` — ${i.ErrMsg}`) : null))));
}

// Running full backups and restores with their progress, and the log backup while its task runs.
export function liveTasks(sets, restores, logs, logJob) {
  const running = sets.filter((s) => s.BackupStatus === 'running' || s.BackupStatus === 'init');
  const restoring = restores.filter((r) => r.RestoreStatus === 'running' || r.RestoreStatus === 'init');
  const logRunning = logJob && (logJob.JobState === 'running' || logJob.JobState === 'queued');
  const closed = logs.filter((l) => l.BackupStatus === 'COMPLETED').sort((a, b) => b.EndTime - a.EndTime)[0];
  const items = [
    ...running.map((s) => h('li', { class: 'task', dataset: { setId: s.BackupSetId } },
      h('div', {}, h('strong', {}, 'Full backup '), h('span', { class: 'mono' }, s.BackupSetId), ' ', badge(s.BackupStatus),
        h('small', { class: 'muted' }, ` started ${fmt.age(s.StartTime || s.CreateTime)}`)),
      progressBar(s.Progress, `Full backup ${s.BackupSetId}`))),
    ...restoring.map((r) => h('li', { class: 'task' },
      h('div', {}, h('strong', {}, 'Restore '), h('a', { href: `#/plan/${encodeURIComponent(r.BackupPlanId)}/restore?task=` +
        `${encodeURIComponent(r.RestoreTaskId)}` }, r.RestoreTaskName || r.RestoreTaskId), ' ', badge(r.RestoreStatus)),
      progressBar(r.FullDataRestoreProgress, `Restore ${r.RestoreTaskId}`))),
    logRunning ? h('li', { class: 'task log-task' }, h('strong', {}, 'Log backup '), badge(logJob.JobState, 'ok'),
      closed ? h('small', { class: 'muted' }, ` last file closed ${fmt.age(closed.EndTime)}`) : null) : null,
  ].filter(Boolean);
  if (!items.length) return h('p', { class: 'muted' }, 'Nothing is running for this plan right now.');
  return h('ul', { class: 'tasks' }, items);
}

const SET_COLUMNS = [
  { title: 'Set', cell: (s) => h('span', { class: 'mono' }, s.BackupSetId) },
  { title: 'Status', cell: (s) => h('span', {}, badge(s.BackupStatus),
    s.BackupStatus === 'running' ? h('small', {}, ` ${s.Progress ?? 0}%`) : null) },
  { title: 'Started', cell: (s) => fmt.timeEl(s.StartTime || s.CreateTime) },
  { title: 'Consistent at', cell: (s) => (s.BackupStatus === 'finish' ? fmt.timeEl(s.EndTime) : '—') },
  { title: 'Took', cell: (s) => (s.EndTime && s.StartTime ? fmt.duration(s.EndTime - s.StartTime) : '—') },
  { title: 'Data / stored', cell: (s) => `${fmt.bytes(s.BackupDataSize)} / ${fmt.bytes(s.BackupSize)}` },
  { title: 'Expires', cell: (s) => fmt.timeEl(s.BackupSetExpiredTime) },
  { title: 'Note', cell: (s) => (s.ErrMessage ? h('span', { class: 'error-text' }, s.ErrMessage) : '') },
];

export function backupSets(sets) {
  return table(SET_COLUMNS, sets, {
    empty: 'No full backups yet.', rowAttrs: (s) => ({ dataset: { setId: s.BackupSetId, status: s.BackupStatus } }),
  });
}

const RESTORE_COLUMNS = [
  { title: 'Restore', cell: (r) => h('span', {}, r.RestoreTaskName || '', h('br'),
    h('small', { class: 'mono muted' }, r.RestoreTaskId)) },
  { title: 'Status', cell: (r) => badge(r.RestoreStatus) },
  { title: 'To', cell: (r) => fmt.timeEl(r.RestoreTime) },
  { title: 'Destination', cell: (r) => (r.RestoreDir ? `${r.DestinationEndpointInstanceType}: ${r.RestoreDir}`
    : `${r.DestinationEndpointInstanceType}: ${r.DestinationEndpointIpPort}`) },
  { title: 'Progress', cell: (r) => progressBar(r.FullDataRestoreProgress, `Restore ${r.RestoreTaskId}`) },
  { title: 'Created', cell: (r) => fmt.timeEl(r.RestoreTaskCreateTime) },
  { title: 'Note', cell: (r) => (r.ErrMessage ? h('span', { class: 'error-text' }, r.ErrMessage) : '') },
];

export function restoreTasks(restores) {
  return table(RESTORE_COLUMNS, restores, {
    empty: 'No restores yet.', rowAttrs: (r) => ({ dataset: { restoreId: r.RestoreTaskId, status: r.RestoreStatus } }),
  });
}
