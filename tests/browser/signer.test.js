// The console's signer (src/console/static/js/signer.js, an ES module run here by Node on the same
// WebCrypto API the browser has, and again on its plain-JavaScript hashes for pages without WebCrypto)
// against vectors of shared/dbs/signature-vectors.json, which were computed by pop-core and the Tea SDK.
'use strict';

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const STATIC = path.resolve(__dirname, '../../src/console/static/js');
const SIGNER = pathToFileURL(path.join(STATIC, 'signer.js')).href;
const HASHES = pathToFileURL(path.join(STATIC, 'hashes.js')).href;
const KEY = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
const TIME = new Date('2024-01-15T08:30:00Z');
const SPECIAL_NAME = "nightly plan *~/ \u6d4b\u8bd5 (v1)!'+&=";

test('percentEncode keeps A-Z a-z 0-9 - _ . ~ and encodes everything else as upper-case UTF-8 %XX', async () => {
  const { percentEncode } = await import(SIGNER);
  assert.equal(percentEncode("a b*c~d!e'f(g)h+/=:"), 'a%20b%2Ac~d%21e%27f%28g%29h%2B%2F%3D%3A');
  assert.equal(percentEncode('\u6d4b'), '%E6%B5%8B');
  assert.equal(percentEncode(30), '30');
});

for (const mode of ['WebCrypto', 'plain-JavaScript hashes']) {
  describe(`signatures with ${mode}`, () => {
    before(async () => (await import(SIGNER)).forceFallbackHashes(mode !== 'WebCrypto'));
    after(async () => (await import(SIGNER)).forceFallbackHashes(false));

    test('V1 POST StopBackupPlan matches pop-core (form body and signature)', async () => {
      const { signV1 } = await import(SIGNER);
      const s = await signV1({ method: 'POST', action: 'StopBackupPlan', ...KEY, time: TIME,
        signatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
        params: { BackupPlanId: 'dbstooi01ex1234', StopMethod: 'ALL', ClientToken: 'ETnLKlblzczshOTUbOCz', RegionId: 'cn-hangzhou' } });
      assert.equal(s.params.Signature, 'bDlUUYuCJcHMavkL3ErOwrzp5Os=');
      assert.equal(s.wire, 'AccessKeyId=testid&Action=StopBackupPlan&BackupPlanId=dbstooi01ex1234&ClientToken=' +
        'ETnLKlblzczshOTUbOCz&Format=JSON&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=' +
        '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&StopMethod=ALL&Timestamp=2024-01-15T08%3A30%3A00Z&' +
        'Version=2019-03-06&Signature=bDlUUYuCJcHMavkL3ErOwrzp5Os%3D');
    });

    test('V1 GET with special characters in a value matches pop-core', async () => {
      const { signV1 } = await import(SIGNER);
      const s = await signV1({ method: 'GET', action: 'ModifyBackupPlanName', ...KEY, time: TIME,
        signatureNonce: 'b2a5f0c1-5d6e-4f70-8a9b-0c1d2e3f4a5b',
        params: { BackupPlanId: 'dbstooi01ex1234', BackupPlanName: SPECIAL_NAME } });
      assert.ok(s.stringToSign.includes('BackupPlanName%3Dnightly%2520plan%2520%252A~%252F%2520%25E6%25B5%258B'));
      assert.equal(s.params.Signature, 'YnY6yjmqu3/6Xr7qMHf/kBCc0cQ=');
    });

    test('V3 StopBackupPlan and a special-character name match the Tea SDK', async () => {
      const { signV3 } = await import(SIGNER);
      const common = { method: 'POST', ...KEY, time: TIME, host: 'dbs-api.cn-hangzhou.aliyuncs.com',
        extraHeaders: { 'x-acs-credentials-provider': 'static_ak' } };
      const stop = await signV3({ ...common, action: 'StopBackupPlan', signatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
        params: { BackupPlanId: 'dbstooi01ex1234', StopMethod: 'ALL', ClientToken: 'ETnLKlblzczshOTUbOCz' } });
      assert.equal(stop.stringToSign, 'ACS3-HMAC-SHA256\n53759982b582a11e9c565d557c44c0e2764dab5e6f3998f90171b1d27d458704');
      assert.equal(stop.headers.authorization, 'ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;' +
        'x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,' +
        'Signature=16ec06e90ca78d3a1b77a942734dd1a9483600aced1ae3b2fd4549a14a217cfd');
      assert.equal(stop.headers.host, undefined, 'the browser sets Host itself');
      const rename = await signV3({ ...common, action: 'ModifyBackupPlanName', signatureNonce: 'b2a5f0c1-5d6e-4f70-8a9b-0c1d2e3f4a5b',
        params: { BackupPlanId: 'dbstooi01ex1234', BackupPlanName: SPECIAL_NAME } });
      assert.ok(rename.headers.authorization.endsWith('Signature=eda623cecd2422fb50d4d5156a04fc3134940ef3d9eb3bc9acd16511ca49ee65'));
    });
  });
}

test('the plain-JavaScript SHA-1, SHA-256 and HMAC agree with OpenSSL on every padding boundary', async () => {
  const { sha1, sha256, hmac } = await import(HASHES);
  for (const length of [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 128, 1000]) {
    const data = crypto.randomBytes(length);
    assert.equal(Buffer.from(sha1(data)).toString('hex'), crypto.createHash('sha1').update(data).digest('hex'), `sha1 ${length}`);
    assert.equal(Buffer.from(sha256(data)).toString('hex'), crypto.createHash('sha256').update(data).digest('hex'),
      `sha256 ${length}`);
    for (const keyLength of [0, 20, 64, 65, 100]) {
      const key = crypto.randomBytes(keyLength);
      assert.equal(Buffer.from(hmac(sha1, key, data)).toString('hex'),
        crypto.createHmac('sha1', key).update(data).digest('hex'), `hmac-sha1 ${length}/${keyLength}`);
      assert.equal(Buffer.from(hmac(sha256, key, data)).toString('hex'),
        crypto.createHmac('sha256', key).update(data).digest('hex'), `hmac-sha256 ${length}/${keyLength}`);
    }
  }
});

test('timestamps have no milliseconds and nonces are 32 fresh hex characters', async () => {
  const { timestamp, nonce } = await import(SIGNER);
  assert.equal(timestamp(new Date('2024-01-15T08:30:00.123Z')), '2024-01-15T08:30:00Z');
  const a = nonce();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, nonce());
});
