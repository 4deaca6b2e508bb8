// @ts-check
// Credential options of the Node client, without a server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as grpc from '@grpc/grpc-js';

import { Q2cClient, bearer, tlsCredentials } from '../src/client.mjs';

test('the token travels as a bearer authorization header, hints only when given', async () => {
  const q = new Q2cClient('127.0.0.1:1', { token: 'abc' });
  try {
    const md = await q.metadata();
    assert.deepEqual(md.get('authorization'), ['Bearer abc']);
    assert.deepEqual(md.get('x-tenant-id'), []);
    assert.deepEqual(md.get('x-principal'), []);
  } finally {
    q.close();
  }
  assert.equal(bearer('Bearer xyz'), 'Bearer xyz');
  assert.throws(() => bearer('  '), /empty/);
});

test('token and tokenProvider are exclusive; a client certificate needs its key', () => {
  assert.throws(() => new Q2cClient('127.0.0.1:1', { token: 'a', tokenProvider: () => 'b' }), /not both/);
  assert.throws(() => tlsCredentials({ cert: 'x' }), /go together/);
  assert.ok(tlsCredentials({}) instanceof grpc.ChannelCredentials);
});
