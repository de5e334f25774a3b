// Sign-in: an AccessKey ID and secret, checked with one signed call and then kept in this tab's
// sessionStorage only (gone when the tab closes; never sent anywhere but as signatures).
import { call, saveCredentials, AUTH_ERROR_CODES } from '../client.js';
import { h, field, select } from '../dom.js';
import { showError } from '../widgets.js';

// What an authentication error means at sign-in, in the user's words.
const SIGN_IN_HINTS = {
  SignatureDoesNotMatch: 'The AccessKey secret does not belong to this AccessKey ID.',
  'InvalidAccessKeyId.NotFound': 'This node has no AccessKey with that ID.',
  'InvalidAccessKeyId.Inactive': 'This AccessKey is disabled.',
  'InvalidTimeStamp.Expired': "This computer's clock differs from the node's by more than 15 minutes.",
  NetworkError: 'The node did not answer.',
};

export default async function signInView(root) {
  const id = h('input', { name: 'accessKeyId', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', { name: 'accessKeySecret', type: 'password', autocomplete: 'current-password',
    required: true });
  const signature = select({ name: 'signature' }, [['v1', 'V1 (HMAC-SHA1, form body)'],
    ['v3', 'V3 (ACS3-HMAC-SHA256, headers)']], 'v1');
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');

  const form = h('form', { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title', tabindex: '-1' }, 'Sign in to opendbs'),
    h('p', { class: 'lead' }, 'Use an AccessKey of this node (for example the root key printed at first start, ' +
      'or one made with ', h('code', {}, 'opendbs admin accesskey create'), '). Every action of the console is a ' +
      'signed API call, so it can do exactly what the key\'s policy allows.'),
    window.isSecureContext ? null : h('p', { class: 'notice warn' }, 'This page came over plain HTTP from another ' +
      'machine: anyone on the way could change it and read what you type. The secret itself never leaves the ' +
      'browser, but prefer the node\'s TLS listener (https://).'),
    field('AccessKey ID', id),
    field('AccessKey secret', secret, 'Kept only in this browser tab (sessionStorage); never stored by the node.'),
    field('Signature', signature),
    errors,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(errors, null);
    submit.disabled = true;
    const creds = { accessKeyId: id.value.trim(), accessKeySecret: secret.value, signature: signature.value };
    try {
      await call('DescribeRegions', {}, { creds });
    } catch (e) {
      // An authenticated call that the key's policy refuses still proves the key: sign in anyway.
      if (AUTH_ERROR_CODES.has(e.code) || e.code === 'NetworkError' || !e.requestId) {
        showError(errors, e, `Sign-in failed. ${SIGN_IN_HINTS[e.code] || ''}`.trim());
        submit.disabled = false;
        return;
      }
    }
    saveCredentials(creds);
    window.dispatchEvent(new Event('opendbs:signed-in'));
  });
  root.append(form);
  id.focus();
}
