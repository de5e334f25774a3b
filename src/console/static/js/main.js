// The console's shell: a hash router (#/plans, #/plans/new, #/plan/ID, #/plan/ID/restore,
// #/explorer/ACTION?Param=value), the sign-in gate and the per-page lifetime (pollers stop when the
// page is left).
import { credentials, forgetCredentials } from './client.js';
import { clear } from './dom.js';
import { errorBox } from './widgets.js';
import signInView from './views/sign_in.js';
import plansView from './views/plans.js';
import planCreateView from './views/plan_create.js';
import planView from './views/plan.js';
import restoreView from './views/restore.js';
import explorerView from './views/explorer.js';

const ROUTES = [
  [/^#\/plans\/?$/, plansView, 'plans'],
  [/^#\/plans\/new$/, planCreateView, 'plans'],
  [/^#\/plan\/([^/]+)$/, planView, 'plans'],
  [/^#\/plan\/([^/?]+)\/restore(?:\?task=([^&]+))?$/, restoreView, 'plans'],
  [/^#\/explorer(?:\/([A-Za-z]+))?(?:\?(.*))?$/, explorerView, 'explorer'],
];

let current = null;  // the page on screen: { stop() }

// What a view gets: repeat(fn, ms) runs fn now and then every ms until the page is left (never two
// at once); alive() is false once it has been left.
function pageContext() {
  let alive = true;
  const timers = new Set();
  return {
    alive: () => alive,
    navigate: (hash) => { location.hash = hash; },
    repeat(fn, ms) {
      let timer = null;
      const tick = async () => {
        if (!alive) return;
        try { await fn(); } finally {
          if (alive) { timer = setTimeout(tick, ms); timers.add(timer); }
        }
      };
      tick();
      return () => { clearTimeout(timer); };
    },
    stop() {
      alive = false;
      for (const t of timers) clearTimeout(t);
    },
  };
}

function updateChrome(section) {
  const creds = credentials();
  document.querySelector('.mainnav').hidden = !creds;
  document.querySelector('.session').hidden = !creds;
  document.querySelector('.session-key').textContent = creds ? creds.accessKeyId : '';
  for (const a of document.querySelectorAll('.mainnav a')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  if (current) current.stop();
  const ctx = pageContext();
  current = ctx;
  const root = clear(document.getElementById('view'));
  const hash = location.hash || '#/plans';
  let match = null;
  let view = null;
  let section = '';
  for (const [pattern, v, s] of ROUTES) {
    match = hash.match(pattern);
    if (match) { view = v; section = s; break; }
  }
  if (!credentials()) {
    view = signInView;
    section = '';
    match = [hash];
  }
  updateChrome(section);
  if (!view) {
    location.replace('#/plans');
    return;
  }
  try {
    // Path parts are decoded; a trailing query (explorer) stays encoded for URLSearchParams.
    const parts = match.slice(1).map((p, i, all) => (p && !(i === all.length - 1 && p.includes('='))
      ? decodeURIComponent(p) : p));
    await view(root, parts, ctx);
  } catch (e) {
    if (ctx.alive()) root.append(errorBox(e, 'This page could not be shown'));
  }
  const heading = root.querySelector('h1');
  if (heading && ctx.alive() && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

document.getElementById('sign-out').addEventListener('click', () => {
  forgetCredentials();
  location.hash = '#/plans';
  render();
});
window.addEventListener('hashchange', render);
window.addEventListener('opendbs:signed-in', render);
render();
