// A form generated from one operation of /api/schema: a labelled control per parameter (select for
// enumerations and booleans, number inputs with the schema's range, a JSON-checked textarea where the
// description asks for JSON), the description as each control's hint, and the browser's validation.
import { h, field, select } from '../dom.js';

const COMMON = new Set(['ClientToken', 'OwnerId', 'RegionId']);

function isJson(p) {
  return /JSON/.test(p.Description || '') || /Objects$/.test(p.Name);
}

function control(p) {
  const attrs = { name: p.Name, id: `param-${p.Name}`, required: p.Required, dataset: { type: p.Type } };
  if (p.Enum && p.Enum.length) {
    return select(attrs, [['', p.Required ? 'Choose…' : '(not set)'], ...p.Enum.map((v) => [v, v])], '');
  }
  if (p.Type === 'Boolean') return select(attrs, [['', '(not set)'], ['true', 'true'], ['false', 'false']], '');
  if (p.Type === 'Integer' || p.Type === 'Long') {
    return h('input', { ...attrs, type: 'number', step: 1, inputmode: 'numeric', min: p.Minimum, max: p.Maximum });
  }
  if (isJson(p)) {
    const area = h('textarea', { ...attrs, rows: 3, spellcheck: 'false', dataset: { type: p.Type, json: 'true' } });
    area.addEventListener('input', () => {
      let ok = true;
      if (area.value.trim()) { try { JSON.parse(area.value); } catch { ok = false; } }
      area.setCustomValidity(ok ? '' : 'Must be valid JSON.');
    });
    return area;
  }
  return h('input', { ...attrs, type: p.Name.endsWith('Password') ? 'password' : 'text', spellcheck: 'false',
    autocomplete: 'off' });
}

function hint(p) {
  const description = p.Description || '';
  const parts = [description && !/[.!?]$/.test(description) ? `${description}.` : description];
  if (p.Enum && p.Enum.length) parts.push(`One of: ${p.Enum.join(', ')}.`);
  if (p.Minimum !== undefined || p.Maximum !== undefined) {
    parts.push(`${p.Type} from ${p.Minimum ?? '−∞'} to ${p.Maximum ?? '∞'}.`);
  } else if (p.Type !== 'String') {
    parts.push(`${p.Type}.`);
  }
  return parts.filter(Boolean).join(' ');
}

function paramField(p) {
  const label = h('span', {}, h('span', { class: 'mono' }, p.Name), p.Required
    ? h('span', { class: 'required', title: 'required' }, ' *', h('span', { class: 'visually-hidden' }, ' (required)'))
    : null);
  return field(label, control(p), hint(p));
}

// Returns { element, values(), setValues(obj), types: { name: Type } } for `operation`.
export function schemaForm(operation) {
  const params = operation.Parameters;
  const required = params.filter((p) => p.Required);
  const optional = params.filter((p) => !p.Required && !COMMON.has(p.Name));
  const common = params.filter((p) => !p.Required && COMMON.has(p.Name));
  const element = h('div', { class: 'schema-form' },
    required.length ? h('fieldset', {}, h('legend', {}, 'Required parameters'), required.map(paramField)) : null,
    optional.length ? h('fieldset', {}, h('legend', {}, 'Optional parameters'), optional.map(paramField)) : null,
    common.length ? h('details', {}, h('summary', {}, 'Common parameters'), common.map(paramField)) : null,
    params.length ? null : h('p', { class: 'muted' }, 'This action takes no parameters of its own.'));
  const controls = () => [...element.querySelectorAll('[name]')];
  return {
    element,
    // { name: string } for every control with a value, in schema order.
    values() {
      const out = {};
      for (const c of controls()) if (c.value !== '') out[c.name] = c.value;
      return out;
    },
    setValues(values) {
      for (const c of controls()) if (values[c.name] !== undefined) c.value = String(values[c.name]);
    },
    types: Object.fromEntries(params.map((p) => [p.Name, p.Type])),
  };
}
