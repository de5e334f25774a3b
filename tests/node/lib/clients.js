// The Alibaba Cloud client families a DBS user may drive the node with, each over HTTP or HTTPS:
//   pop-get   @alicloud/pop-core RPCClient, V1 signature, GET (its default)
//   pop-post  the same with method POST (form body)
//   tea-v3    @alicloud/openapi-client callApi, V3 ACS3-HMAC-SHA256 (the generated SDKs' default)
//   tea-v1    the same with signatureAlgorithm 'v2', i.e. V1 HMAC-SHA1 through doRPCRequest
// Every client exposes call(action, params) → the response body, and throws what its library throws
// (pop-core: err.code = Code; Tea: err.code and err.statusCode), so tests see errors as users do.
'use strict';

const https = require('node:https');
const RPCClient = require('@alicloud/pop-core').RPCClient;
const OpenApi = require('@alicloud/openapi-client');
const OpenApiUtil = require('@alicloud/openapi-util').default;
const { RuntimeOptions } = require('@alicloud/tea-util');

const API_VERSION = '2019-03-06';
const FAMILIES = ['pop-get', 'pop-post', 'tea-v3', 'tea-v1'];

// Stringifies every parameter value, as the generated DBS SDKs do (OpenApiUtil.query).
function stringParams(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

function popClient(node, key, { secure, method, version }) {
  const client = new RPCClient({
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    endpoint: node.endpoint(secure),
    apiVersion: version,
  });
  // The node's certificate is self-signed: trust exactly it, for this client only.
  const agent = secure ? new https.Agent({ keepAlive: true, ca: node.certificate(), checkServerIdentity: () => undefined })
    : undefined;
  return {
    async call(action, params = {}, extra = {}) {
      const opts = { timeout: 30000, ...extra };
      if (method === 'POST') opts.method = 'POST';
      if (agent) opts.agent = agent;
      return client.request(action, stringParams(params), opts);
    },
    close() { if (agent) agent.destroy(); },
  };
}

function teaClient(node, key, { secure, v1, version }) {
  const config = new OpenApi.Config({
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    endpoint: `127.0.0.1:${secure ? node.tlsPort : node.port}`,
    protocol: secure ? 'https' : 'http',
    regionId: 'cn-hangzhou',
  });
  if (v1) config.signatureAlgorithm = 'v2';
  const client = new OpenApi.default(config);
  const runtime = new RuntimeOptions({ ignoreSSL: true, readTimeout: 30000, connectTimeout: 5000, autoretry: false });
  return {
    async call(action, params = {}) {
      const apiParams = new OpenApi.Params({
        action, version, protocol: secure ? 'HTTPS' : 'HTTP', pathname: '/', method: 'POST',
        authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
      });
      const request = new OpenApi.OpenApiRequest({ query: OpenApiUtil.query(stringParams(params)) });
      const response = await client.callApi(apiParams, request, runtime);
      return response.body;
    },
    close() {},
  };
}

// A client of `family` for `node`, signing with `key` ({accessKeyId, accessKeySecret}; default root)
// and announcing API `version`.
function makeClient(node, family, { secure = false, key = node.root, version = API_VERSION } = {}) {
  let client;
  if (family === 'pop-get') client = popClient(node, key, { secure, method: 'GET', version });
  else if (family === 'pop-post') client = popClient(node, key, { secure, method: 'POST', version });
  else if (family === 'tea-v3') client = teaClient(node, key, { secure, v1: false, version });
  else if (family === 'tea-v1') client = teaClient(node, key, { secure, v1: true, version });
  else throw new Error(`unknown client family ${family}`);
  return Object.assign(client, { family, secure, label: `${family}/${secure ? 'https' : 'http'}` });
}

// Every family × {http, https}.
function everyClientKind() {
  const kinds = [];
  for (const family of FAMILIES) for (const secure of [false, true]) kinds.push({ family, secure });
  return kinds;
}

// The API error code of an error thrown by any family (pop-core and Tea both set err.code).
function errorCode(err) {
  return err && err.code;
}

// The HTTP status behind an error: Tea has statusCode; pop-core only has the body's HttpStatusCode.
function errorStatus(err) {
  if (err.statusCode) return err.statusCode;
  return err.data && err.data.HttpStatusCode;
}

module.exports = { makeClient, everyClientKind, FAMILIES, API_VERSION, errorCode, errorStatus, stringParams };
