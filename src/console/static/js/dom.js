// Building the page from data without innerHTML: h('tag', {attributes}, ...children). Text is always
// inserted as text, so names and messages from the API can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'for') el.htmlFor = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked' || name === 'selected' || name === 'disabled') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Replaces el's children with `children` (skipping null, undefined and false, as h() does).
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}

let idCounter = 0;
// A unique id for label/for and aria-describedby pairs.
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A labelled form field: the label, the control, an optional hint (its aria-describedby).
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid();
  const hintEl = hint ? h('div', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control, hintEl);
}

// A <select> with options given as values or [value, text] pairs.
export function select(attrs, options, selected) {
  return h('select', attrs, options.map((o) => {
    const [value, text] = Array.isArray(o) ? o : [o, o];
    return h('option', { value, selected: value === selected }, text);
  }));
}

// Copies text to the clipboard where the page may; otherwise selects `fallbackEl` for Ctrl+C.
export async function copyText(text, fallbackEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackEl) {
      const range = document.createRange();
      range.selectNodeContents(fallbackEl);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return false;
  }
}
