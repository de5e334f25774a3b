// Pieces every page uses: the API error box, status badges, progress bars, responsive tables and
// the confirm dialog.
import { fill, h } from './dom.js';

// The error of a failed call, with everything needed to look it up in the node's log.
export function errorBox(err, title = 'The request failed') {
  const code = err.code || err.name || 'Error';
  const message = err.message || String(err);
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', { class: 'error-title' }, title),
    h('dl', { class: 'error-fields' },
      h('dt', {}, 'Code'), h('dd', { class: 'error-code' }, code),
      h('dt', {}, 'Message'), h('dd', { class: 'error-message' }, h('pre', {}, message)),
      err.requestId ? [h('dt', {}, 'RequestId'), h('dd', { class: 'error-request-id' }, err.requestId)] : null,
      err.status ? [h('dt', {}, 'HTTP status'), h('dd', {}, String(err.status))] : null));
}

// Shows `err` inside `slot` (replacing what was there), or clears the slot when err is null.
export function showError(slot, err, title) {
  fill(slot, err ? errorBox(err, title) : null);
}

const STATUS_TONES = {
  running: 'ok', finish: 'ok', check_pass: 'ok', succeeded: 'ok', COMPLETED: 'ok', ONLINE: 'ok',
  wait: 'idle', init: 'busy', pause: 'warn', stop: 'warn', locked: 'bad', failed: 'bad', expired: 'idle',
  FILLING: 'busy',
};

export function badge(status, tone) {
  const t = tone || STATUS_TONES[status] || 'idle';
  return h('span', { class: `badge badge-${t}` }, status || '—');
}

export function progressBar(percent, label) {
  const p = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': p, 'aria-label': label || 'Progress' }, h('div', { class: 'progress-fill' }));
  bar.firstChild.style.width = `${p}%`;
  return h('div', { class: 'progress-row' }, bar, h('span', { class: 'progress-text' }, `${p}%`));
}

// A table that becomes a list of cards on narrow screens (each cell labelled by its column).
// columns: [{ title, cell: (row) => Node|string, class? }]
export function table(columns, rows, { caption, empty = 'Nothing here yet.', rowAttrs } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data responsive' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.title)))),
      h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
        columns.map((c) => h('td', { 'data-label': c.title, class: c.class }, c.cell(row))))))));
}

// A modal confirmation built on <dialog>. Resolves to the value of the button pressed ('' = cancel).
// `body` may contain form controls; their values are read by the caller before the dialog closes
// via onConfirm (return false to keep it open).
export function confirmDialog({ title, body, confirmText = 'Confirm', danger = false, onConfirm }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const confirm = h('button', { type: 'submit', value: 'confirm', class: danger ? 'danger' : 'primary' }, confirmText);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('div', { class: 'dialog-body' }, body),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', value: '', formnovalidate: true }, 'Cancel'), confirm)));
    dialog.addEventListener('submit', async (event) => {
      if (event.submitter && event.submitter.value === 'confirm' && onConfirm) {
        event.preventDefault();
        confirm.disabled = true;
        const keep = (await onConfirm()) === false;
        confirm.disabled = false;
        if (keep) return;
        dialog.close('confirm');
      }
    });
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// A page title (focused after navigation, so screen readers announce the new page) with actions.
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: '-1' }, title),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}
