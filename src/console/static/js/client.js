// The console's only way to the node: ordinary signed DBS API calls from the browser, so the console
// can do nothing the signed-in AccessKey's RAM policy forbids. Credentials live in this tab's
// sessionStorage only.
import { signV1, signV3 } from './signer.js';

const STORAGE_KEY = 'opendbs.console.credentials';

export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

// { accessKeyId, accessKeySecret, signature: 'v1' | 'v3' }
export function saveCredentials(c) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(c));
}

export function forgetCredentials() {
  sessionStorage.removeItem(STORAGE_KEY);
}

// An error answer of the API (or a failure to reach it), with the fields a user needs to report it.
export class ApiError extends Error {
  constructor({ code, message, requestId = '', status = 0, body = null }) {
    super(message);
    this.code = code;
    this.requestId = requestId;
    this.status = status;
    this.body = body;
  }
}

// Codes that mean "the request was not authenticated" (as opposed to "authenticated but refused").
export const AUTH_ERROR_CODES = new Set(['IncompleteSignature', 'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId.Inactive', 'SignatureDoesNotMatch', 'InvalidTimeStamp.Expired', 'InvalidTimeStamp.Format',
  'SignatureNonceUsed', 'UnsupportedSignatureMethod', 'InvalidSecurityToken']);

// Parameters as the API takes them: strings, with empty and absent values left out.
export function wireParams(params) {
  const out = {};
  for (const [name, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    out[name] = String(value);
  }
  return out;
}

// Builds the signed request without sending it: { method, url, headers, body, signature, stringToSign }.
export async function signedRequest(action, params, { creds = credentials(), method = 'POST', signature } = {}) {
  if (!creds) throw new ApiError({ code: 'NotSignedIn', message: 'Sign in with an AccessKey first.' });
  const version = signature || creds.signature || 'v1';
  const p = wireParams(params);
  const keys = { accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret };
  if (version === 'v3') {
    const s = await signV3({ method, action, params: p, host: location.host, ...keys });
    return { method, url: `/?${s.query}`, headers: s.headers, body: '', signature: 'v3', stringToSign: s.stringToSign };
  }
  const s = await signV1({ method, action, params: p, ...keys });
  if (method === 'GET') {
    return { method, url: `/?${s.wire}`, headers: {}, body: '', signature: 'v1', stringToSign: s.stringToSign };
  }
  return {
    method, url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: s.wire,
    signature: 'v1', stringToSign: s.stringToSign,
  };
}

// Sends one signed call. Resolves to { request, status, text, json, ms } whatever the answer; rejects
// only when the node cannot be reached.
export async function exchange(action, params, options = {}) {
  const request = await signedRequest(action, params, options);
  const started = performance.now();
  let response;
  try {
    response = await fetch(request.url, {
      method: request.method, headers: request.headers, body: request.body || undefined,
      cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError({ code: 'NetworkError', message: `The node did not answer: ${e.message}` });
  }
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: reported below */ }
  return { request, status: response.status, text, json, ms: Math.round(performance.now() - started),
    requestId: response.headers.get('x-acs-request-id') || (json && json.RequestId) || '' };
}

// The error an exchange stands for, or null when it succeeded.
export function errorOf(x) {
  const ok = x.status >= 200 && x.status < 300 && x.json && x.json.Success !== false && !x.json.Code;
  if (ok) return null;
  const j = x.json || {};
  return new ApiError({
    code: j.Code || j.ErrCode || `HTTP ${x.status}`,
    message: j.Message || j.ErrMessage || (x.json ? 'The node answered with an error.' : x.text.slice(0, 500)),
    requestId: j.RequestId || x.requestId, status: x.status, body: x.json,
  });
}

// One signed call; resolves to the answer's JSON or rejects with an ApiError.
export async function call(action, params = {}, options = {}) {
  const x = await exchange(action, params, options);
  const error = errorOf(x);
  if (error) throw error;
  return x.json;
}

// A page of a list answer's items: Items: { <Name>: [...] }.
export function items(answer, name) {
  return (answer && answer.Items && answer.Items[name]) || [];
}
