// Code for the request built in the API Explorer: the `opendbs call` command line, a curl command
// with a signed V1 GET URL (curl cannot sign: the URL works once, within 15 minutes), and Node.js
// with @alicloud/pop-core.

// Single-quoted for POSIX shells unless plainly safe.
export function shellQuote(value) {
  const s = String(value);
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

export function cliCode({ action, params, endpoint, accessKeyId }) {
  const args = Object.entries(params).map(([k, v]) => `--${k} ${shellQuote(v)}`);
  const command = args.length > 2
    ? [`opendbs call ${action}`, ...args].join(' \\\n    ')
    : [`opendbs call ${action}`, ...args].join(' ');
  return [
    '# The node and AccessKey of this session; put your secret in the third line.',
    `export OPENDBS_ENDPOINT=${shellQuote(endpoint)}`,
    `export ALIBABA_CLOUD_ACCESS_KEY_ID=${shellQuote(accessKeyId)}`,
    "export ALIBABA_CLOUD_ACCESS_KEY_SECRET='<your AccessKey secret>'",
    command,
  ].join('\n');
}

export function curlCode({ signedUrl }) {
  return [
    '# curl cannot sign requests. This URL carries a V1 signature made in your browser for exactly',
    '# these parameters, with a one-time SignatureNonce and a Timestamp: it works once, within 15',
    '# minutes. For anything repeatable use `opendbs call` (or regenerate the URL here).',
    `curl -sS ${shellQuote(signedUrl)}`,
  ].join('\n');
}

function jsValue(value, type) {
  if ((type === 'Integer' || type === 'Long') && /^-?\d+$/.test(value)) return value;
  if (type === 'Boolean' && (value === 'true' || value === 'false')) return value;
  return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export function nodeCode({ action, params, types, endpoint }) {
  const body = Object.entries(params).map(([k, v]) => `  ${k}: ${jsValue(v, types[k])},`);
  return [
    '// npm install @alicloud/pop-core',
    "const RPCClient = require('@alicloud/pop-core');",
    '',
    'const client = new RPCClient({',
    '  accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,',
    '  accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,',
    `  endpoint: process.env.OPENDBS_ENDPOINT || '${endpoint}',`,
    "  apiVersion: '2019-03-06',",
    '});',
    '',
    `client.request('${action}', {`,
    ...body,
    "}, { method: 'POST' }).then((result) => {",
    '  console.log(JSON.stringify(result, null, 2));',
    '}, (err) => {',
    '  console.error(err.code, err.message);',
    '  process.exitCode = 1;',
    '});',
  ].join('\n');
}
