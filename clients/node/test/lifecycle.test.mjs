// @ts-check
// Runs the Node client against a real q2c server (server.py --local, fresh SQLite file, a
// fresh development key), started once for this file; the clients carry minted tokens.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { status } from '@grpc/grpc-js';

import { MONTH, runLifecycle } from '../examples/lifecycle.mjs';
import { Q2cClient, Q2cError, money, pbDate } from '../src/client.mjs';
import { startServer } from '../src/server.mjs';

/** @type {import('../src/server.mjs').LocalServer} */
let server;
/** @type {Q2cClient} */
let q;
/** @type {Q2cClient} */
let approver;

const TENANT = `node-${randomUUID().slice(0, 8)}`;

before(async () => {
  server = await startServer();
  q = new Q2cClient(server.target, { token: await server.mintToken({ tenant: TENANT, principal: 'node-test' }) });
  approver = new Q2cClient(server.target, {
    token: await server.mintToken({ tenant: TENANT, principal: 'node-approver' }),
    correlationId: q.correlationId,
  });
  await q.waitForReady(10_000);
}, { timeout: 90_000 });

after(async () => {
  q?.close();
  approver?.close();
  if (server) {
    const code = await server.stop();
    assert.equal(code, 0, 'server exits cleanly on SIGTERM');
  }
}, { timeout: 60_000 });

/** A customer, a rate card and an ACTIVE engagement with a T&M line "tm". */
async function activeEngagement() {
  const customer = await q.createCustomer({
    display_name: `Initech ${randomUUID().slice(0, 8)}`,
    legal_entity: 'Initech LLC',
    billing_currency: 'USD',
    payment_terms_days: 30,
    service_line: 'Consulting',
    tax_profile: { jurisdiction: 'US-CA', rate: '0.0725' },
  });
  const card = await q.createRateCard({
    display_name: 'Test rates',
    currency_code: 'USD',
    effective_from: pbDate('2026-01-01'),
    rates: [{ role: 'engineer', hourly_rate: money('150', 'USD') }],
  });
  let eng = await q.createEngagement({ customer_id: String(customer.customer_id), display_name: 'Initech portal' });
  eng = await q.qualifyEngagement(eng.engagement_id);
  eng = await q.closeWonEngagement(eng.engagement_id);
  eng = await q.approveContract({
    engagement_id: eng.engagement_id,
    currency_code: 'USD',
    start_date: pbDate('2026-01-01'),
    billing_lines: [{ line_id: 'tm', description: 'Team', time_and_materials: { rate_card_id: String(card.rate_card_id) } }],
  });
  eng = await q.activateEngagement({
    engagement_id: eng.engagement_id,
    start_date: pbDate('2026-01-01'),
    staffing_plan: [{ person: 'pat', role: 'engineer' }],
  });
  assert.equal(eng.state, 'ENGAGEMENT_STATE_ACTIVE');
  return eng;
}

describe('q2c Node client against a real server', () => {
  test('full engagement lifecycle: won opportunity to paid invoice', async () => {
    const r = await runLifecycle(q, undefined, approver);

    assert.equal(r.customer.status, 'CUSTOMER_STATUS_ACTIVE');
    assert.equal(r.rateCard.revision, 1);
    assert.equal(r.readiness.ready, true);
    assert.equal(r.readiness.total.amount, '48355.47');

    const inv = r.invoice;
    assert.equal(inv.state, 'INVOICE_STATE_PAID');
    assert.deepEqual(inv.period, { month: MONTH, start_date: null, end_date: null });
    assert.equal(inv.currency_code, 'USD');
    assert.deepEqual(
      inv.lines.map((l) => [l.source, l.source_id, l.quantity, l.amount.amount]),
      [
        ['INVOICE_LINE_SOURCE_TIME_ENTRY', 't-ana-0105', '6.5', '1462.50'],
        ['INVOICE_LINE_SOURCE_TIME_ENTRY', 't-ben-0105', '8', '1320.00'],
        ['INVOICE_LINE_SOURCE_TIME_ENTRY', 't-ana-0106', '7.25', '1631.25'],
        ['INVOICE_LINE_SOURCE_MILESTONE', 'design', '1', '40000.00'],
      ],
    );
    // Exact decimal strings: 44413.75 x 0.08875 = 3941.7203125 -> 3941.72 (half up).
    assert.equal(inv.subtotal.amount, '44413.75');
    assert.equal(inv.tax.amount.amount, '3941.72');
    assert.deepEqual(inv.total, { currency_code: 'USD', amount: '48355.47' });
    assert.equal(inv.amount_paid.amount, '48355.47');
    assert.equal(inv.balance_due.amount, '0.00');
    assert.deepEqual(
      r.payments.map((p) => p.state),
      ['INVOICE_STATE_PARTIALLY_PAID', 'INVOICE_STATE_PAID'],
    );

    const eng = r.engagement;
    // Completed with every invoice paid and nothing left to bill: closed in the same call.
    assert.equal(eng.state, 'ENGAGEMENT_STATE_CLOSED');
    assert.deepEqual(eng.invoice_ids, [inv.invoice_id]);
    assert.ok(eng.time_entries.every((t) => t.status === 'TIME_ENTRY_STATUS_BILLED' && t.invoice_id === inv.invoice_id));
    assert.equal(eng.milestones[0].status, 'MILESTONE_STATUS_ACCEPTED');
    assert.equal(eng.milestones[0].invoice_id, inv.invoice_id);

    // The tokens' identities reached the audit log; every mutation carried its own request_id.
    const records = r.audit.audit_records;
    assert.ok(records.length >= 10);
    const reviews = new Set(['ApproveTimeEntries', 'AcceptMilestone']);
    for (const rec of records) {
      assert.equal(rec.principal, reviews.has(rec.command_type) ? 'node-approver' : 'node-test');
      assert.equal(rec.tenant_id, TENANT);
      assert.equal(rec.correlation_id, q.correlationId);
      assert.equal(rec.outcome, 'AUDIT_OUTCOME_ACCEPTED');
      assert.match(rec.request_id, /^[0-9a-f-]{36}$/);
    }
    assert.equal(new Set(records.map((rec) => rec.request_id)).size, records.length);
    assert.equal(r.verdict.ok, true);
  });

  test('a call without a token is refused: UNAUTHENTICATED, reason CREDENTIALS_MISSING', async () => {
    const anonymous = new Q2cClient(server.target);
    try {
      await assert.rejects(anonymous.getDeliveryStats(), (/** @type {any} */ error) => {
        assert.ok(error instanceof Q2cError);
        assert.equal(error.code, status.UNAUTHENTICATED);
        assert.equal(error.codeName, 'UNAUTHENTICATED');
        assert.equal(error.reason, 'CREDENTIALS_MISSING');
        return true;
      });
    } finally {
      anonymous.close();
    }
  });

  test('a token provider is asked on every call; a tenant hint must match the token', async () => {
    let asked = 0;
    const token = await server.mintToken({ tenant: TENANT, principal: 'node-reader', scopes: ['customers:read'] });
    const reader = new Q2cClient(server.target, {
      tokenProvider: async () => {
        asked += 1;
        return token;
      },
    });
    const mismatched = new Q2cClient(server.target, { token, tenantId: 'someone-else' });
    try {
      await reader.call('CustomerService', 'ListCustomers', {});
      await reader.call('CustomerService', 'ListCustomers', {});
      assert.equal(asked, 2);
      await assert.rejects(reader.createCustomer({ display_name: 'X', billing_currency: 'USD' }), (/** @type {any} */ error) => {
        assert.equal(error.code, status.PERMISSION_DENIED);
        assert.equal(error.reason, 'SCOPE_MISSING');
        assert.equal(error.errorMetadata.scope, 'customers:write');
        return true;
      });
      await assert.rejects(mismatched.call('CustomerService', 'ListCustomers', {}), (/** @type {any} */ error) => {
        assert.equal(error.code, status.PERMISSION_DENIED);
        assert.equal(error.reason, 'TENANT_MISMATCH');
        return true;
      });
    } finally {
      reader.close();
      mismatched.close();
    }
  });

  test('errors carry the code and the decoded google.rpc.ErrorInfo', async () => {
    await assert.rejects(q.getEngagement('no-such-engagement'), (/** @type {any} */ error) => {
      assert.ok(error instanceof Q2cError);
      assert.equal(error.code, status.NOT_FOUND);
      assert.equal(error.code, 5);
      assert.equal(error.codeName, 'NOT_FOUND');
      assert.equal(error.reason, 'ENGAGEMENT_NOT_FOUND');
      assert.equal(error.domain, 'q2c.v1');
      assert.equal(error.errorMetadata.id, 'no-such-engagement');
      assert.equal(error.method, 'EngagementService/GetEngagement');
      return true;
    });

    const eng = await activeEngagement();
    const entry = {
      entry_id: 'bad-1',
      billing_line_id: 'tm',
      person: 'pat',
      role: 'engineer',
      work_date: pbDate('2026-01-05'),
      hours: '-2',
    };
    await assert.rejects(q.submitTimeEntries(eng.engagement_id, [entry]), (/** @type {any} */ error) => {
      assert.ok(error instanceof Q2cError);
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.equal(error.reason, 'VALIDATION_FAILED');
      const fields = error.fieldViolations.map((/** @type {any} */ v) => v.field);
      assert.ok(fields.includes('entries[0].hours'), `field violations: ${JSON.stringify(error.fieldViolations)}`);
      return true;
    });

    await assert.rejects(q.qualifyEngagement(eng.engagement_id), (/** @type {any} */ error) => {
      assert.equal(error.code, status.FAILED_PRECONDITION);
      assert.equal(error.reason, 'INVALID_STATE');
      return true;
    });

    await assert.rejects(q.getEngagement(eng.engagement_id, { deadlineMs: 0 }), (/** @type {any} */ error) => {
      assert.ok(error instanceof Q2cError);
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      return true;
    });
  });

  test('delivery service: stats, dead letters and their errors', async () => {
    const stats = await q.getDeliveryStats();
    assert.deepEqual(stats.destinations.map((d) => d.destination), ['DELIVERY_DESTINATION_ERP', 'DELIVERY_DESTINATION_PSA']);
    const page = await q.listDeadLetters({ destination: 'DELIVERY_DESTINATION_ERP' });
    assert.ok(Array.isArray(page.dead_letters));
    await assert.rejects(q.getDeadLetter(987654321), (/** @type {any} */ error) => {
      assert.equal(error.code, status.NOT_FOUND);
      assert.equal(error.reason, 'DELIVERY_NOT_FOUND');
      return true;
    });
    await assert.rejects(q.retryDeadLetter({}), (/** @type {any} */ error) => {
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.deepEqual(error.fieldViolations.map((/** @type {any} */ v) => v.field), ['delivery_id']);
      return true;
    });
    const none = await q.retryDeadLetter({ all_matching: true, destination: 'DELIVERY_DESTINATION_PSA' });
    assert.deepEqual(none.delivery_ids, []);
  });

  test('retrying a mutation with the same request_id replays the original response', async () => {
    const customer = await q.createCustomer({
      display_name: 'Umbrella',
      legal_entity: 'Umbrella Corp',
      billing_currency: 'EUR',
      tax_profile: { jurisdiction: 'DE', rate: '0.19' },
    });
    const created = await q.createEngagement({ customer_id: String(customer.customer_id), display_name: 'Umbrella audit' });

    const requestId = randomUUID();
    const first = await q.qualifyEngagement(created.engagement_id, { requestId });
    const retry = await q.qualifyEngagement(created.engagement_id, { requestId });
    assert.equal(first.state, 'ENGAGEMENT_STATE_QUALIFIED');
    assert.equal(retry.state, 'ENGAGEMENT_STATE_QUALIFIED');
    assert.equal(retry.version, first.version);
    assert.equal(retry.etag, first.etag);
    assert.equal(BigInt(first.version), BigInt(created.version) + 1n);
    // Applied once: the engagement did not move on.
    const now = await q.getEngagement(created.engagement_id);
    assert.equal(now.version, first.version);

    // Same id, different payload: ALREADY_EXISTS / REQUEST_ID_REUSED.
    await assert.rejects(
      q.qualifyEngagement(created.engagement_id, { requestId, comment: 'something else' }),
      (/** @type {any} */ error) => {
        assert.equal(error.code, status.ALREADY_EXISTS);
        assert.equal(error.reason, 'REQUEST_ID_REUSED');
        return true;
      },
    );

    // Without a request_id of our own, each call gets a fresh one: the second is a new command.
    await assert.rejects(q.qualifyEngagement(created.engagement_id), (/** @type {any} */ error) => {
      assert.equal(error.reason, 'INVALID_STATE');
      return true;
    });
  });
});
