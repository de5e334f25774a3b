// How numbers and times read in the console. Times are shown in the browser's time zone; a title
// attribute gives the UTC instant and the epoch milliseconds the API uses.

export function bytes(n) {
  if (n === undefined || n === null || Number.isNaN(Number(n))) return '—';
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "2026-11-28 07:09:25" in local time.
export function time(ms) {
  if (!ms) return '—';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function utc(ms) {
  return ms ? new Date(Number(ms)).toISOString().replace('.000Z', 'Z') : '';
}

// A <time> element showing local time, with UTC and epoch ms on hover.
export function timeEl(ms) {
  const el = document.createElement('time');
  el.textContent = time(ms);
  if (ms) {
    el.dateTime = utc(ms);
    el.title = `${utc(ms)} (${ms})`;
  }
  return el;
}

export function duration(ms) {
  const s = Math.max(0, Math.round(Number(ms) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${m % 60 ? `${m % 60} min` : ''}`.trim();
  return `${Math.floor(hr / 24)} days`;
}

// "5 min ago".
export function age(ms, now = Date.now()) {
  return ms ? `${duration(now - Number(ms))} ago` : '—';
}

// The offset of the browser's zone, e.g. "UTC+08:00", for labels next to local times.
export function zoneName() {
  const offset = -new Date().getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}
