// Hand-made requests, for what the SDKs will not send: a stale Timestamp, a reused nonce, garbage.
// V1 and V3 signing exactly as shared/dbs/protocol.md §4 and §5 describe (the same algorithms as
// pop-core and openapi-util), and a raw HTTP(S) request that returns status, headers and body.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');

function percentEncode(s) {
  return encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(params) {
  return Object.keys(params).sort().map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`).join('&');
}

// YYYY-MM-DDThh:mm:ssZ for a Date.
function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nonce() {
  return crypto.randomBytes(16).toString('hex');
}

// The full V1 parameter set for `action`, signed with `key` for `method`. `common` overrides the
// common parameters (Timestamp, SignatureNonce, Version, ...).
function signV1(method, action, params, key, common = {}) {
  const all = {
    Action: action, Version: '2019-03-06', Format: 'JSON', AccessKeyId: key.accessKeyId,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: nonce(),
    Timestamp: isoSeconds(new Date()), ...common, ...params,
  };
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(all))}`;
  const signature = crypto.createHmac('sha1', `${key.accessKeySecret}&`).update(stringToSign).digest('base64');
  return { params: { ...all, Signature: signature }, stringToSign };
}

// A V3 (ACS3-HMAC-SHA256) request: {path, headers} for POST / with `query` and an empty body.
function signV3(host, action, query, key, { date = new Date(), signatureNonce = nonce(), version = '2019-03-06' } = {}) {
  const hashedPayload = crypto.createHash('sha256').update('').digest('hex');
  const headers = {
    host,
    'x-acs-action': action,
    'x-acs-version': version,
    'x-acs-date': isoSeconds(date),
    'x-acs-signature-nonce': signatureNonce,
    'x-acs-content-sha256': hashedPayload,
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = ['POST', '/', canonicalQuery(query), canonicalHeaders, signedHeaders, hashedPayload].join('\n');
  const stringToSign = 'ACS3-HMAC-SHA256\n' + crypto.createHash('sha256').update(canonicalRequest).digest('hex');
  const signature = crypto.createHmac('sha256', key.accessKeySecret).update(stringToSign).digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${key.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  const qs = canonicalQuery(query);
  return { path: qs ? `/?${qs}` : '/', headers };
}

// One HTTP(S) request to the node; resolves to {status, headers, text, json} (json null if not JSON).
function rawRequest(node, { method = 'GET', path = '/', headers = {}, body, secure = false }) {
  const lib = secure ? https : http;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = lib.request({
      host: '127.0.0.1', port: secure ? node.tlsPort : node.port, method, path, headers,
      ca: secure ? node.certificate() : undefined, checkServerIdentity: () => undefined, agent: false,
    }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    // A node that answers early (413) may reset the connection while the body is still being sent.
    req.on('error', (e) => { if (!answered) reject(e); });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A V1-signed GET (parameters in the query) or POST (form body) through rawRequest.
function v1Request(node, method, action, params, key, common = {}, { secure = false } = {}) {
  const { params: signed } = signV1(method, action, params, key, common);
  const encoded = canonicalQuery(signed);
  if (method === 'GET') return rawRequest(node, { method, path: `/?${encoded}`, secure });
  return rawRequest(node, {
    method, path: '/', secure, body: encoded,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(encoded) },
  });
}

module.exports = { percentEncode, canonicalQuery, isoSeconds, nonce, signV1, signV3, rawRequest, v1Request };
