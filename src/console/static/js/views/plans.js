// The plan list: every plan the key may see, with its status, its last successful full backup and
// that backup's age, and the window it can be restored to. Refreshes itself every few seconds.
import { call, items } from '../client.js';
import { fill, h, select } from '../dom.js';
import * as fmt from '../format.js';
import { badge, pageHeader, showError, table } from '../widgets.js';

const PAGE_SIZE = 20;
const STATUSES = ['', 'wait', 'init', 'check_pass', 'running', 'pause', 'stop', 'locked'];

async function lastFinishedSet(planId) {
  try {
    const r = await call('DescribeFullBackupList', { BackupPlanId: planId, BackupSetStatus: 'finish', PageSize: 1 });
    return items(r, 'FullBackupFile')[0] || null;
  } catch {
    return null;  // e.g. the key may list plans but not their sets: the column then says —
  }
}

function windowCell(p) {
  if (!p.BeginTimestampForRestore || !p.EndTimestampForRestore) return h('span', { class: 'muted' }, 'none yet');
  return h('span', { class: 'window' }, fmt.timeEl(p.BeginTimestampForRestore), ' → ',
    fmt.timeEl(p.EndTimestampForRestore));
}

function lastBackupCell(set) {
  if (!set) return h('span', { class: 'muted' }, 'none yet');
  return h('span', {}, fmt.timeEl(set.EndTime), h('br'), h('small', { class: 'muted' }, fmt.age(set.EndTime)));
}

const COLUMNS = [
  { title: 'Plan', cell: (r) => h('div', {}, h('a', { href: `#/plan/${encodeURIComponent(r.plan.BackupPlanId)}`,
    class: 'plan-link' }, r.plan.BackupPlanName || r.plan.BackupPlanId), h('br'),
  h('small', { class: 'mono muted' }, r.plan.BackupPlanId)) },
  { title: 'Database', cell: (r) => `${r.plan.DatabaseType} · ${r.plan.BackupMethod}` },
  { title: 'Status', cell: (r) => badge(r.plan.BackupPlanStatus) },
  { title: 'Last successful backup', cell: (r) => lastBackupCell(r.set) },
  { title: 'Restorable window', cell: (r) => windowCell(r.plan) },
  { title: 'Log backup', cell: (r) => (r.plan.EnableBackupLog ? 'on' : 'off') },
];

export default async function plansView(root, _params, ctx) {
  let page = 0;
  const status = select({ id: 'plan-status-filter' }, STATUSES.map((s) => [s, s || 'any status']), '');
  const listSlot = h('div', { class: 'plan-list', 'aria-busy': 'true' });
  const errors = h('div', { class: 'error-slot' });
  const pager = h('div', { class: 'pager' });

  root.append(
    pageHeader('Backup plans', h('a', { class: 'button primary', href: '#/plans/new' }, 'New plan')),
    h('div', { class: 'toolbar' }, h('label', { for: 'plan-status-filter' }, 'Show'), status),
    errors, listSlot, pager);

  async function load() {
    const params = { PageNum: page, PageSize: PAGE_SIZE, ShowRecoverTimeRange: true, BackupPlanStatus: status.value };
    try {
      const r = await call('DescribeBackupPlanList', params);
      const plans = items(r, 'BackupPlanDetail');
      const sets = await Promise.all(plans.map((p) => lastFinishedSet(p.BackupPlanId)));
      if (!ctx.alive() || listSlot.contains(document.activeElement)) return;
      showError(errors, null);
      fill(listSlot, table(COLUMNS, plans.map((plan, i) => ({ plan, set: sets[i] })), {
        empty: 'No backup plans yet. Create one with "New plan".',
        rowAttrs: (row) => ({ dataset: { planId: row.plan.BackupPlanId } }),
      }));
      listSlot.setAttribute('aria-busy', 'false');
      renderPager(r.TotalPages || 1, r.TotalElements || 0);
    } catch (e) {
      showError(errors, e, 'Could not list the plans');
    }
  }

  function renderPager(totalPages, total) {
    const prev = h('button', { type: 'button', disabled: page === 0, onclick: () => { page -= 1; load(); } }, 'Previous');
    const next = h('button', { type: 'button', disabled: page + 1 >= totalPages, onclick: () => { page += 1; load(); } },
      'Next');
    fill(pager, h('span', { class: 'muted' }, `${total} plan${total === 1 ? '' : 's'} · page ${page + 1} of ` +
      `${Math.max(1, totalPages)}`), ...(totalPages > 1 ? [prev, next] : []));
  }

  status.addEventListener('change', () => { page = 0; load(); });
  ctx.repeat(load, 5000);
}
