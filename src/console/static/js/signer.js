// Signing DBS requests in the browser, exactly as shared/dbs/protocol.md §4 (V1, HMAC-SHA1 over the
// canonicalized parameters) and §5 (V3, ACS3-HMAC-SHA256 over the canonical request), on WebCrypto
// (or hashes.js where the page has none).
// Pure functions of their inputs (time and nonce are passed in), so they are tested against the
// protocol's vectors.

import * as fallback from './hashes.js';

const encoder = new TextEncoder();

// encodeURIComponent plus ! ' ( ) * → %21 %27 %28 %29 %2A: UTF-8, upper-case hex, space → %20, ~ kept.
export function percentEncode(value) {
  return encodeURIComponent(String(value)).replace(/[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// name=value pairs, sorted by the unencoded name (JavaScript's default sort), percent-encoded, joined by &.
export function canonicalize(params) {
  return Object.keys(params).sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name])}`).join('&');
}

export function v1StringToSign(method, params) {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalize(params))}`;
}

// WebCrypto where the page has it (https:// and localhost); the plain-JavaScript hashes elsewhere.
// `force` lets the tests run the fallback where WebCrypto exists.
let useFallback = false;
export function forceFallbackHashes(force) {
  useFallback = force;
}

function subtle() {
  return !useFallback && globalThis.crypto && globalThis.crypto.subtle;
}

async function hmac(hash, key, data) {
  const s = subtle();
  if (!s) return fallback.hmac(hash === 'SHA-1' ? fallback.sha1 : fallback.sha256, encoder.encode(key), encoder.encode(data));
  const k = await s.importKey('raw', encoder.encode(key), { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await s.sign('HMAC', k, encoder.encode(data)));
}

function base64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(text) {
  const s = subtle();
  return hex(s ? new Uint8Array(await s.digest('SHA-256', encoder.encode(text))) : fallback.sha256(encoder.encode(text)));
}

// YYYY-MM-DDThh:mm:ssZ in UTC, no milliseconds.
export function timestamp(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// 32 random hex characters (the SDKs' nonce has the same shape).
export function nonce() {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

// V1: returns every parameter to send (common ones, `params`, Signature), the StringToSign and the
// wire form "canonicalized&Signature=..." for a query string or a form body.
export async function signV1({ method, action, params, accessKeyId, accessKeySecret, time = new Date(),
  signatureNonce = nonce() }) {
  const all = {
    Format: 'JSON', Version: '2019-03-06', AccessKeyId: accessKeyId, SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0', SignatureNonce: signatureNonce, Timestamp: timestamp(time), Action: action, ...params,
  };
  const stringToSign = v1StringToSign(method, all);
  const signature = base64(await hmac('SHA-1', `${accessKeySecret}&`, stringToSign));
  return {
    params: { ...all, Signature: signature },
    stringToSign,
    wire: `${canonicalize(all)}&Signature=${percentEncode(signature)}`,
  };
}

// V3 for an RPC action with its parameters in the query and an empty body (as the Tea SDKs send DBS
// actions). `host` must be the Host header the browser will send (location.host). Returns the query
// string and the headers to set (the browser adds Host itself). `extraHeaders` (x-acs-* names in lower
// case) are sent and signed too.
export async function signV3({ method, action, params, host, accessKeyId, accessKeySecret, time = new Date(),
  signatureNonce = nonce(), body = '', extraHeaders = {} }) {
  const query = Object.keys(params).sort().map((n) => `${percentEncode(n)}=${percentEncode(params[n])}`).join('&');
  const headers = {
    host,
    'x-acs-action': action,
    'x-acs-content-sha256': await sha256Hex(body),
    'x-acs-date': timestamp(time),
    'x-acs-signature-nonce': signatureNonce,
    'x-acs-version': '2019-03-06',
    ...extraHeaders,
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [method, '/', query, canonicalHeaders, signedHeaders, headers['x-acs-content-sha256']]
    .join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${await sha256Hex(canonicalRequest)}`;
  const signature = hex(await hmac('SHA-256', accessKeySecret, stringToSign));
  const { host: _host, ...sent } = headers;
  sent.authorization = `ACS3-HMAC-SHA256 Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return { query, headers: sent, stringToSign, canonicalRequest };
}
