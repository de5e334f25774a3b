// The three inputs of the restore wizard: the moment (only restorable moments can be chosen), the
// destination, and the renames. Each returns { element, validate(), values() }.
import { field, fill, h, uid } from '../dom.js';
import * as fmt from '../format.js';
import { isRestorable, nearestRestorable, timeline } from './timeline.js';

const toLocalInput = (ms) => fmt.time(ms).replace(' ', 'T');

// ranges: from restorableRanges(); history: { sets, logs } for the timeline.
export function momentStep(ranges, history) {
  const latest = ranges.reduce((best, r) => (!best || r.end > best.end ? r : best), null);
  let chosen = latest ? latest.end : null;
  const timelineSlot = h('div', {});
  const exact = h('input', { type: 'datetime-local', step: 1, id: 'restore-time', required: true });
  const slider = h('input', { type: 'range', step: 1000, id: 'restore-slider', 'aria-label': 'Moment within the range' });
  const readout = h('p', { class: 'moment-readout', role: 'status' });
  const name = uid('range');
  const rangeOf = (t) => ranges.findIndex((r) => t >= r.begin && t <= r.end);

  const choices = h('fieldset', { class: 'choices ranges' }, h('legend', {}, 'Restorable ranges and points'),
    ranges.map((r, i) => {
      const input = h('input', { type: 'radio', name, value: String(i), id: `${name}-${i}` });
      input.addEventListener('change', () => choose(r.type === 'point' ? r.begin : r.end));
      const text = r.type === 'point'
        ? ['The full backup ', h('span', { class: 'mono' }, r.setIds.join(', ')), ' as of ', fmt.timeEl(r.begin)]
        : ['Any second from ', fmt.timeEl(r.begin), ' to ', fmt.timeEl(r.end), ' (full backup + log)'];
      return h('div', { class: 'choice' }, input, h('label', { for: input.id }, ...text));
    }));

  function choose(picked) {
    const i = rangeOf(picked);
    const r = ranges[i];
    choices.querySelectorAll('input').forEach((input) => { input.checked = Number(input.value) === i; });
    const min = Math.ceil(r.begin / 1000) * 1000;
    const max = Math.floor(r.end / 1000) * 1000;
    const adjustable = r.type === 'range' && min <= max;
    // The exact-moment field holds whole seconds within [min, max]: a moment picked between two seconds
    // becomes the nearest whole second inside the range, or the field (which drops the milliseconds)
    // could fall below its own minimum and the form would refuse to submit.
    const t = adjustable ? Math.min(Math.max(Math.round(picked / 1000) * 1000, min), max) : picked;
    chosen = t;
    exact.disabled = !adjustable;
    slider.disabled = !adjustable;
    if (adjustable) {
      exact.min = toLocalInput(min);
      exact.max = toLocalInput(max);
      slider.min = String(min);
      slider.max = String(max);
      slider.value = String(Math.min(Math.max(t, min), max));
    }
    exact.value = toLocalInput(t);
    exact.setCustomValidity('');
    fill(readout, 'Restore to ', h('strong', {}, fmt.time(t)), ` (${fmt.zoneName()}; ${fmt.utc(t)})`,
      r.type === 'point' ? ' — exactly the full backup.' : '.');
    fill(timelineSlot, timeline({ ...history, ranges, selected: t, onPick: choose }));
  }

  slider.addEventListener('input', () => choose(Number(slider.value)));
  exact.addEventListener('change', () => {
    const t = new Date(exact.value).getTime();
    if (Number.isFinite(t) && isRestorable(ranges, t)) {
      choose(t);
    } else {
      const near = nearestRestorable(ranges, Number.isFinite(t) ? t : Date.now());
      exact.setCustomValidity(`Not restorable. The nearest restorable moment is ${fmt.time(near)}.`);
      exact.reportValidity();
    }
  });

  const element = h('div', { class: 'moment' },
    ranges.length ? null : h('p', { class: 'notice warn' }, 'Nothing of this plan is restorable yet: it needs at least ' +
      'one finished full backup.'),
    timelineSlot,
    h('p', { class: 'hint' }, 'Click the timeline to pick the nearest restorable moment, or choose below.'),
    choices,
    h('div', { class: 'grid-2' }, field(`Exact moment (${fmt.zoneName()})`, exact,
      'Only moments inside the chosen range are accepted.'), field('Within the range', slider)),
    readout);
  if (chosen !== null) choose(chosen);
  else timelineSlot.append(timeline({ ...history, ranges }));

  return {
    element,
    validate: () => chosen !== null && isRestorable(ranges, chosen),
    values() {
      const r = ranges[rangeOf(chosen)];
      return r.type === 'point' ? { BackupSetId: r.setIds[0], RestoreTime: chosen } : { RestoreTime: chosen };
    },
    chosen: () => chosen,
  };
}

// Agent: a directory on the node (RestoreDir). Other: a database server by address.
export function destinationStep() {
  const name = uid('dest');
  const kinds = [['Agent', 'A directory on this node', 'Files are written into an empty directory (physical restore).'],
    ['Other', 'A database server', 'Data is loaded into a running server reachable from the node.']];
  const dir = h('input', { id: 'restore-dir', name: 'RestoreDir', placeholder: '/var/lib/restore/shop', spellcheck: 'false' });
  const ip = h('input', { id: 'dest-ip', name: 'DestinationEndpointIP' });
  const port = h('input', { id: 'dest-port', name: 'DestinationEndpointPort', type: 'number', min: 1, max: 65535 });
  const user = h('input', { id: 'dest-user', name: 'DestinationEndpointUserName', autocomplete: 'off' });
  const password = h('input', { id: 'dest-password', name: 'DestinationEndpointPassword', type: 'password',
    autocomplete: 'new-password' });
  const db = h('input', { id: 'dest-db', name: 'DestinationEndpointDatabaseName' });
  const agentFields = h('div', { class: 'dest-agent' }, field('Directory on the node', dir,
    'An absolute path; it must not exist yet or be empty.'));
  const otherFields = h('div', { class: 'dest-other grid-3' }, field('Host or IP', ip), field('Port', port),
    field('User', user), field('Password', password, 'Stored encrypted on the node.'), field('Database (optional)', db));
  const choices = h('fieldset', { class: 'choices' }, h('legend', {}, 'Restore into'),
    kinds.map(([value, title, hint], i) => {
      const input = h('input', { type: 'radio', name, value, id: `${name}-${value}`, checked: i === 0 });
      return h('div', { class: 'choice' }, input, h('label', { for: input.id }, h('strong', {}, title),
        ` (${value})`, h('br'), h('span', { class: 'hint' }, hint)));
    }));
  const kind = () => choices.querySelector('input:checked').value;
  const sync = () => {
    const agent = kind() === 'Agent';
    agentFields.hidden = !agent;
    otherFields.hidden = agent;
    dir.required = agent;
    for (const x of [ip, port, user]) x.required = !agent;
  };
  choices.addEventListener('change', sync);
  sync();
  const validate = () => {
    dir.setCustomValidity(kind() === 'Agent' && dir.value && !dir.value.startsWith('/') ? 'Give an absolute path.' : '');
    return true;
  };
  dir.addEventListener('input', validate);
  choices.addEventListener('change', validate);
  return {
    element: h('div', {}, choices, agentFields, otherFields),
    validate,
    values: () => (kind() === 'Agent'
      ? { DestinationEndpointInstanceType: 'Agent', RestoreDir: dir.value.trim() }
      : { DestinationEndpointInstanceType: 'Other', DestinationEndpointIP: ip.value.trim(), DestinationEndpointPort: port.value,
        DestinationEndpointUserName: user.value, DestinationEndpointPassword: password.value,
        DestinationEndpointDatabaseName: db.value }),
    describe: () => (kind() === 'Agent' ? `directory ${dir.value} on the node` : `server ${ip.value}:${port.value}`),
  };
}

// Rows of "database → new name"; RestoreObjects as JSON, or nothing when there are none.
export function renamesStep() {
  const rows = h('div', { class: 'renames' });
  const addRow = () => {
    const from = h('input', { class: 'rename-from', placeholder: 'shop' });
    const to = h('input', { class: 'rename-to', placeholder: 'shop_restored' });
    const n = rows.children.length + 1;
    const row = h('div', { class: 'rename-row' }, field(`Database ${n}`, from), h('span', { 'aria-hidden': 'true' }, '→'),
      field(`New name for database ${n}`, to),
      h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove rename ${n}`,
        onclick: () => row.remove() }, 'Remove'));
    rows.append(row);
    from.focus();
  };
  const element = h('div', {}, h('p', { class: 'hint' }, 'Optional. Restore a database under another name, e.g. to ' +
    'compare it with the live one. Renames apply to restores into a server; a directory restore writes files as ' +
    'they were backed up.'), rows, h('button', { type: 'button', id: 'rename-add', onclick: addRow }, 'Add a rename'));
  const list = () => [...rows.querySelectorAll('.rename-row')].map((row) => ({
    DBName: row.querySelector('.rename-from').value.trim(), NewDBName: row.querySelector('.rename-to').value.trim(),
  })).filter((r) => r.DBName);
  return {
    element,
    validate: () => true,
    values: () => (list().length ? { RestoreObjects: JSON.stringify(list()) } : {}),
    describe: () => (list().length ? list().map((r) => `${r.DBName} → ${r.NewDBName || r.DBName}`).join(', ') : 'none'),
  };
}
