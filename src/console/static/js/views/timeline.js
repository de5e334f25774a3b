// A plan's history on one horizontal axis: restorable ranges and points (green), the log chain
// (blue; a gap is a hole in it) and full backup sets (markers, colored by status). In the restore
// wizard it is also a picker: a click chooses the nearest restorable moment.
import { h } from '../dom.js';
import * as fmt from '../format.js';

// Log files that follow each other within `slackMs` form one segment of the chain.
export function logSegments(logs, slackMs = 2000) {
  const sorted = [...logs].filter((l) => l.StartTime).sort((a, b) => a.StartTime - b.StartTime);
  const out = [];
  for (const l of sorted) {
    const last = out[out.length - 1];
    const end = Math.max(l.EndTime || l.StartTime, l.StartTime);
    if (last && l.StartTime <= last.end + slackMs) {
      last.end = Math.max(last.end, end);
      last.files += 1;
    } else {
      out.push({ start: l.StartTime, end, files: 1 });
    }
  }
  return out;
}

// Ranges of DescribeRestoreRangeInfo as { type, begin, end, setIds }.
export function restorableRanges(answer) {
  const list = (answer && answer.Items && answer.Items.DBSRecoverRange) || [];
  return list.map((r) => ({
    type: r.RangeType, begin: Number(r.BeginTimestampForRestore), end: Number(r.EndTimestampForRestore),
    setIds: ((r.FullBackupList && r.FullBackupList.FullBackupDetail) || []).map((s) => s.BackupSetId),
  }));
}

// The restorable moment nearest to t, or null when there is none.
export function nearestRestorable(ranges, t) {
  let best = null;
  for (const r of ranges) {
    const candidate = Math.min(Math.max(t, r.begin), r.end);
    if (best === null || Math.abs(candidate - t) < Math.abs(best - t)) best = candidate;
  }
  return best;
}

export function isRestorable(ranges, t) {
  return ranges.some((r) => t >= r.begin && t <= r.end);
}

// { sets, logs, ranges, now, selected?, onPick? } → element.
export function timeline({ sets = [], logs = [], ranges = [], now = Date.now(), selected = null, onPick = null }) {
  const segments = logSegments(logs);
  const times = [
    ...sets.map((s) => Number(s.StartTime || s.CreateTime)), ...segments.map((s) => s.start), ...ranges.map((r) => r.begin),
  ].filter(Boolean);
  const ends = [...sets.map((s) => Number(s.EndTime || s.StartTime || s.CreateTime)), ...segments.map((s) => s.end),
    ...ranges.map((r) => r.end)].filter(Boolean);
  const first = times.length ? Math.min(...times) : now - 3600e3;
  const last = ends.length ? Math.max(...ends) : now;
  // Up to now, unless the history ended long ago: then it would be squeezed into a corner.
  const end = now - last > (last - first) ? last + Math.max((last - first) * 0.15, 2e3) : now;
  const span = Math.max(end - first, 60e3);
  const from = first - span * 0.03;
  const to = end + span * 0.03;
  const pct = (t) => ((t - from) / (to - from)) * 100;
  const place = (el, a, b) => {
    el.style.left = `${pct(a)}%`;
    if (b !== undefined) el.style.width = `max(3px, ${pct(b) - pct(a)}%)`;
    return el;
  };

  const rangeLane = h('div', { class: 'tl-lane tl-ranges' }, ranges.map((r) => place(h('div', {
    class: `tl-range tl-${r.type}`, title: r.type === 'point'
      ? `Restorable point ${fmt.time(r.begin)} (full set ${r.setIds.join(', ')})`
      : `Restorable ${fmt.time(r.begin)} → ${fmt.time(r.end)}`,
  }), r.begin, r.end)));
  const logLane = h('div', { class: 'tl-lane tl-logs' }, segments.map((s) => place(h('div', {
    class: 'tl-log', title: `Log chain ${fmt.time(s.start)} → ${fmt.time(s.end)} (${s.files} files)`,
  }), s.start, s.end)));
  const setLane = h('div', { class: 'tl-lane tl-sets' }, sets.map((s) => place(h('div', {
    class: `tl-set tl-set-${s.BackupStatus}`, title: `Full backup ${s.BackupSetId} (${s.BackupStatus}) ` +
      `${fmt.time(s.StartTime)} → ${fmt.time(s.EndTime)}`,
  }), Number(s.EndTime || s.StartTime || s.CreateTime))));
  const nowMark = now <= to ? place(h('div', { class: 'tl-now', title: 'now' }), now) : null;
  const marker = selected ? place(h('div', { class: 'tl-selected', title: `Selected ${fmt.time(selected)}` }), selected)
    : null;

  const track = h('div', { class: `tl-track${onPick ? ' tl-pickable' : ''}` }, rangeLane, logLane, setLane, nowMark, marker);
  if (onPick) {
    track.addEventListener('click', (event) => {
      const box = track.getBoundingClientRect();
      const t = from + ((event.clientX - box.left) / box.width) * (to - from);
      const snapped = nearestRestorable(ranges, t);
      if (snapped !== null) onPick(Math.round(snapped));
    });
  }
  // Ticks show the time only when the whole axis lies within one day (the date is then in the caption).
  const oneDay = fmt.time(from).slice(0, 10) === fmt.time(to).slice(0, 10);
  const tickText = (t) => (oneDay ? fmt.time(t).slice(11) : fmt.time(t).slice(5, 16));
  const axis = h('div', { class: 'tl-axis', 'aria-hidden': 'true' },
    [0, 0.5, 1].map((f) => place(h('span', { class: `tl-tick tl-tick-${f * 2}` }, tickText(from + f * (to - from))),
      from + f * (to - from))));
  const summary = `${sets.length} full backup set${sets.length === 1 ? '' : 's'}; log chain in ${segments.length} ` +
    `segment${segments.length === 1 ? '' : 's'}; restorable: ${ranges.length ? ranges.map((r) => (r.type === 'point'
      ? `point ${fmt.time(r.begin)}` : `${fmt.time(r.begin)} to ${fmt.time(r.end)}`)).join('; ') : 'nothing yet'}.`;
  const day = oneDay ? h('span', { class: 'tl-day' }, fmt.time(from).slice(0, 10)) : null;
  return h('figure', { class: 'timeline' },
    h('div', { class: 'tl-labels', 'aria-hidden': 'true' }, h('span', {}, 'Restorable'), h('span', {}, 'Log chain'),
      h('span', {}, 'Full backups')),
    h('div', { class: 'tl-body' }, track, axis),
    h('figcaption', { class: 'tl-caption' }, day, day ? ': ' : '', summary));
}
