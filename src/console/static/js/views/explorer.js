// The API Explorer, after Alibaba Cloud's OpenAPI Explorer: pick any action, fill a form generated
// from /api/schema, run it signed from this browser, see the exact request and the raw response, and
// copy the same call as an `opendbs call` command, a curl command or Node.js code.
import { credentials, errorOf, exchange, signedRequest, wireParams } from '../client.js';
import { copyText, field, fill, h, select } from '../dom.js';
import { schema } from '../schema.js';
import { badge, errorBox } from '../widgets.js';
import { cliCode, curlCode, nodeCode } from '../codegen.js';
import { schemaForm } from './schema_form.js';

const SUPPORT_TONES = { implemented: 'ok', recorded: 'idle', not_applicable: 'warn' };

// Accessible tabs: [{ id, title, content }] → element (arrow keys move between tabs).
function tabs(list) {
  const bar = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Generated code' });
  const panels = [];
  const select = (i, focus) => {
    [...bar.children].forEach((t, j) => {
      t.setAttribute('aria-selected', String(i === j));
      t.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    if (focus) bar.children[i].focus();
  };
  list.forEach((tab, i) => {
    bar.append(h('button', { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}`,
      onclick: () => select(i), onkeydown: (e) => {
        if (e.key === 'ArrowRight') select((i + 1) % list.length, true);
        if (e.key === 'ArrowLeft') select((i + list.length - 1) % list.length, true);
      } }, tab.title));
    panels.push(h('div', { role: 'tabpanel', id: `panel-${tab.id}`, 'aria-labelledby': `tab-${tab.id}`, tabindex: 0 },
      tab.content));
  });
  select(0);
  return h('div', { class: 'tabbed' }, bar, panels);
}

function codeBlock(id) {
  const pre = h('pre', { class: 'code', id: `code-${id}` });
  const status = h('span', { class: 'form-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'copy', onclick: async () => {
    status.textContent = (await copyText(pre.textContent, pre)) ? 'Copied.' : 'Selected: press Ctrl+C to copy.';
  } }, 'Copy');
  return { pre, element: h('div', { class: 'code-block' }, h('div', { class: 'code-tools' }, status, copy), pre) };
}

function requestView(x) {
  const r = x.request;
  const sent = r.body ? Object.fromEntries(new URLSearchParams(r.body)) : Object.fromEntries(new URL(r.url, location.href)
    .searchParams);
  return h('div', { class: 'exchange-request' },
    h('p', {}, h('span', { class: 'mono method' }, r.method), ' ', h('span', { class: 'mono' }, `${location.origin}${r.url
      .split('?')[0]}`), ` · signature ${r.signature.toUpperCase()}`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data params' }, h('caption', {}, r.body
      ? 'Form body parameters' : 'Query parameters'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, Object.entries(sent).map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k),
      h('td', { class: 'mono wrap' }, k.endsWith('Password') ? '••••••' : v)))))),
    Object.keys(r.headers).length ? h('details', {}, h('summary', {}, 'Headers'), h('pre', { class: 'code' },
      Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join('\n'))) : null,
    h('details', {}, h('summary', {}, 'String to sign'), h('pre', { class: 'code' }, r.stringToSign)));
}

// `query` ("BackupPlanId=dbs...&StopMethod=ALL") fills the form, so other pages can link to a call.
export default async function explorerView(root, [actionName, query], ctx) {
  const { Operations: ops } = await schema();
  const op = ops.find((o) => o.Name === actionName) || ops.find((o) => o.Name === 'DescribeBackupPlanList') || ops[0];
  const search = h('input', { type: 'search', id: 'action-search', placeholder: 'e.g. restore', autocomplete: 'off' });
  const list = h('ul', { class: 'action-list' }, ops.map((o) => h('li', { dataset: { name: o.Name.toLowerCase() } },
    h('a', { href: `#/explorer/${o.Name}`, title: o.Summary, 'aria-current': o === op ? 'page' : null }, o.Name,
      o.Support !== 'implemented' ? h('small', { class: 'muted' }, ` ${o.Support.replace('_', ' ')}`) : null))));
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    for (const li of list.children) li.hidden = q !== '' && !li.dataset.name.includes(q);
  });

  const form = schemaForm(op);
  if (query) form.setValues(Object.fromEntries(new URLSearchParams(query)));
  const method = select({ id: 'explorer-signature' }, [['v1-POST', 'V1, POST form body'], ['v1-GET', 'V1, GET query'],
    ['v3-POST', 'V3 (ACS3-HMAC-SHA256), POST']], `${credentials().signature || 'v1'}-POST`);
  const run = h('button', { type: 'submit', class: 'primary', id: 'explorer-run' }, 'Run');
  const result = h('section', { class: 'card exchange', 'aria-labelledby': 'h-result', hidden: true },
    h('h2', { id: 'h-result' }, 'Request and response'), h('div', { class: 'exchange-body' }));
  const cli = codeBlock('cli');
  const curl = codeBlock('curl');
  const node = codeBlock('node');

  const endpoint = location.origin;
  async function regenerate() {
    const params = wireParams(form.values());
    cli.pre.textContent = cliCode({ action: op.Name, params, endpoint, accessKeyId: credentials().accessKeyId });
    node.pre.textContent = nodeCode({ action: op.Name, params, types: form.types, endpoint });
    try {
      const signed = await signedRequest(op.Name, params, { method: 'GET', signature: 'v1' });
      curl.pre.textContent = curlCode({ signedUrl: `${endpoint}${signed.url}` });
    } catch (e) {
      curl.pre.textContent = `# ${e.message}`;
    }
  }

  const formEl = h('form', { class: 'card explorer-form', 'aria-labelledby': 'h-action', novalidate: false },
    h('h1', { id: 'h-action', tabindex: '-1' }, op.Name, ' ', badge(op.Support.replace('_', ' '), SUPPORT_TONES[op.Support])),
    h('p', { class: 'lead' }, op.Summary),
    h('p', { class: 'hint' }, 'RAM action ', h('code', {}, `dbs:${op.Name}`), op.PlanScoped
      ? ['; resource ', h('code', {}, 'acs:dbs:{region}:{accountId}:backupplan/{BackupPlanId}')] : '; resource *'),
    form.element,
    h('div', { class: 'actions' }, field('Signature', method), run));
  formEl.addEventListener('input', regenerate);
  formEl.addEventListener('change', regenerate);
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!formEl.reportValidity()) return;
    run.disabled = true;
    const [version, httpMethod] = method.value.split('-');
    const body = result.querySelector('.exchange-body');
    try {
      const x = await exchange(op.Name, form.values(), { method: httpMethod, signature: version });
      if (!ctx.alive()) return;
      const error = errorOf(x);
      fill(body, requestView(x),
        error ? errorBox(error, 'The node answered with an error') : null,
        h('p', {}, 'Response: ', h('span', { class: 'mono', id: 'response-status' }, `HTTP ${x.status}`), ` in ${x.ms} ms`),
        h('pre', { class: 'code response', id: 'response-body', tabindex: 0 }, x.json ? JSON.stringify(x.json, null, 2)
          : x.text));
    } catch (e) {
      fill(body, errorBox(e));
    }
    result.hidden = false;
    run.disabled = false;
    regenerate();
  });

  root.append(h('div', { class: 'explorer' },
    h('nav', { class: 'card action-nav', 'aria-label': 'API actions' }, field('Filter actions', search), list),
    h('div', { class: 'explorer-main' }, formEl, result,
      h('section', { class: 'card', 'aria-labelledby': 'h-code' }, h('h2', { id: 'h-code' }, 'Code'),
        tabs([{ id: 'cli', title: 'opendbs CLI', content: cli.element }, { id: 'curl', title: 'curl', content: curl.element },
          { id: 'node', title: 'Node.js (pop-core)', content: node.element }])))));
  regenerate();
}
