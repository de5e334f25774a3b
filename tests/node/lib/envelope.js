// Assertions on the DBS response envelope (DESIGN.md §6, api-reference.md §1).
'use strict';

const assert = require('node:assert/strict');

const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

// A success: upper-case UUID RequestId, Success true, HttpStatusCode 200, and never a Code field
// (pop-core would throw on one).
function assertSuccess(body, what = 'response') {
  assert.match(body.RequestId, REQUEST_ID, `${what}: RequestId`);
  assert.equal(body.Success, true, `${what}: Success`);
  assert.equal(body.HttpStatusCode, 200, `${what}: HttpStatusCode`);
  assert.ok(!('Code' in body), `${what}: no Code on success, got ${body.Code}`);
  return body;
}

// An epoch-millisecond time (after 2020, before 2100).
function assertEpochMs(value, what) {
  assert.equal(typeof value, 'number', `${what} is a number`);
  assert.ok(value > 1577836800000 && value < 4102444800000, `${what} = ${value} is epoch ms`);
}

// A recent epoch-millisecond time: within `slackMs` of now.
function assertRecentMs(value, what, slackMs = 120000) {
  assertEpochMs(value, what);
  assert.ok(Math.abs(Date.now() - value) < slackMs, `${what} = ${value} is within ${slackMs} ms of now`);
}

module.exports = { assertSuccess, assertEpochMs, assertRecentMs, REQUEST_ID };

// The client, with every successful answer checked by assertSuccess.
function checked(client) {
  return { ...client, call: async (action, params, extra) => assertSuccess(await client.call(action, params, extra), action) };
}

module.exports.checked = checked;
