// @ts-check
/**
 * A full q2c engagement lifecycle from Node.js, mirroring clients/demo.py:
 * customer + rate card -> engagement created, qualified, won, contracted (time & materials +
 * fixed fee), activated -> time submitted by one principal and approved by another ->
 * milestone completed and accepted -> January invoiced, issued and paid -> engagement completed
 * -> audit log verified.
 *
 *   node examples/lifecycle.mjs        # starts server.py itself (SQLite, --local, a fresh
 *                                      # development key) and mints both tokens from its key
 *   node examples/lifecycle.mjs --target HOST:PORT --token T --approver-token T2
 *                                      # a running server (or Q2C_TARGET, Q2C_TOKEN, Q2C_APPROVER_TOKEN)
 */

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { Q2cClient, dateString, money, pbDate, shortEnum } from '../src/client.mjs';
import { startServer } from '../src/server.mjs';

/** The invoiced month and the dates of the work. */
export const MONTH = '2026-01';
export const START = '2026-01-05';

/** Time worked in MONTH: 6.5 h x 225 + 8 h x 165 + 7.25 h x 225 = 4413.75 USD. */
export const TIME_ENTRIES = [
  { entry_id: 't-ana-0105', person: 'ana', role: 'architect', date: '2026-01-05', hours: '6.5' },
  { entry_id: 't-ben-0105', person: 'ben', role: 'engineer', date: '2026-01-05', hours: '8' },
  { entry_id: 't-ana-0106', person: 'ana', role: 'architect', date: '2026-01-06', hours: '7.25' },
];

/**
 * Runs the lifecycle; returns what it created. `approver` (another principal of the same
 * tenant) approves the time and accepts the milestone: a principal may not approve its own work.
 * @param {Q2cClient} q
 * @param {(line: string) => void} [log]
 * @param {Q2cClient} [approver]
 */
export async function runLifecycle(q, log = () => {}, approver = q) {
  const step = (/** @type {string} */ text) => log(`> ${text}`);

  const customer = await q.createCustomer({
    display_name: 'Acme',
    legal_entity: 'Acme Ltd',
    billing_currency: 'USD',
    payment_terms_days: 30,
    service_line: 'Digital Transformation',
    tax_profile: { jurisdiction: 'US-NY', rate: '0.08875' },
  });
  const rateCard = await q.createRateCard({
    display_name: 'Standard 2026',
    currency_code: 'USD',
    effective_from: pbDate('2026-01-01'),
    rates: [
      { role: 'architect', hourly_rate: money('225.00', 'USD') },
      { role: 'engineer', hourly_rate: money('165.00', 'USD') },
    ],
  });
  step(`customer ${customer.display_name} (${customer.customer_id}); rate card ${rateCard.rate_card_id} rev ${rateCard.revision}`);

  let eng = await q.createEngagement({
    customer_id: /** @type {string} */ (customer.customer_id),
    display_name: 'Acme cloud migration',
    opportunity_ref: 'OPP-ACM-1',
    expected_start_date: pbDate(START),
  });
  step(`engagement ${eng.engagement_id} created -> ${shortEnum(eng.state)}`);
  eng = await q.qualifyEngagement(eng.engagement_id);
  step(`qualified -> ${shortEnum(eng.state)}`);
  eng = await q.closeWonEngagement(eng.engagement_id);
  step(`close-won -> ${shortEnum(eng.state)}`);
  eng = await q.approveContract({
    engagement_id: eng.engagement_id,
    currency_code: 'USD',
    start_date: pbDate(START),
    end_date: pbDate('2026-12-31'),
    po_reference: 'PO-7781',
    billing_lines: [
      {
        line_id: 'tm',
        description: 'Delivery team',
        time_and_materials: { rate_card_id: /** @type {string} */ (rateCard.rate_card_id) },
      },
      {
        line_id: 'ff',
        description: 'Design milestone',
        fixed_fee: {
          milestones: [{ milestone_id: 'design', display_name: 'Design sign-off', amount: money('40000', 'USD') }],
        },
      },
    ],
  });
  step(`contract approved (T&M + fixed fee, revision ${eng.contract?.revision}) -> ${shortEnum(eng.state)}`);
  eng = await q.activateEngagement({
    engagement_id: eng.engagement_id,
    start_date: pbDate(START),
    project_template_id: 'cloud-migration-v3',
    staffing_plan: [
      { person: 'ana', role: 'architect' },
      { person: 'ben', role: 'engineer' },
    ],
  });
  step(`activated on ${dateString(/** @type {any} */ (eng).start_date)} -> ${shortEnum(eng.state)}, milestones: ${eng.milestones.map((m) => `${m.milestone_id} ${shortEnum(m.status)}`).join(', ')}`);

  eng = await q.submitTimeEntries(
    eng.engagement_id,
    TIME_ENTRIES.map((t) => ({
      entry_id: t.entry_id,
      billing_line_id: 'tm',
      person: t.person,
      role: t.role,
      work_date: pbDate(t.date),
      hours: t.hours,
      description: 'migration work',
    })),
  );
  step(`${eng.time_entries.length} time entries submitted`);
  eng = await approver.approveTimeEntries(eng.engagement_id, TIME_ENTRIES.map((t) => t.entry_id));
  step(`time approved: ${eng.time_entries.map((t) => `${t.entry_id} ${t.hours} h ${shortEnum(t.status)}`).join(', ')}`);

  eng = await q.completeMilestone(eng.engagement_id, 'design');
  eng = await approver.acceptMilestone(eng.engagement_id, 'design');
  step(`milestone design completed and accepted -> ${shortEnum(eng.milestones[0].status)}`);

  const period = { month: MONTH };
  const readiness = await q.getInvoiceReadiness(eng.engagement_id, period);
  step(`readiness for ${MONTH}: ready=${readiness.ready}, total ${readiness.total.amount} ${readiness.total.currency_code}`);
  let invoice = await q.generateInvoice(eng.engagement_id, period);
  step(`invoice ${invoice.invoice_id} generated -> ${shortEnum(invoice.state)}`);
  for (const line of invoice.lines) {
    log(`    ${line.line_id} ${shortEnum(line.source).padEnd(10)} ${line.source_id.padEnd(12)} ${line.quantity.padStart(5)} x ${line.unit_price.amount.padStart(9)} = ${line.amount.amount.padStart(10)}`);
  }
  log(`    subtotal ${invoice.subtotal.amount}, tax ${invoice.tax.jurisdiction} @ ${invoice.tax.rate} ${invoice.tax.amount.amount}, total ${invoice.total.amount} ${invoice.currency_code}`);

  invoice = await q.issueInvoice(invoice.invoice_id);
  step(`issued on ${dateString(invoice.issue_date)}, due ${dateString(invoice.due_date)} -> ${shortEnum(invoice.state)}`);
  const payments = [];
  for (const amount of ['10000.00', null]) {
    const pay = amount ?? invoice.balance_due.amount;
    invoice = await q.recordPayment({
      invoice_id: invoice.invoice_id,
      amount: money(pay, invoice.currency_code),
      received_date: pbDate('2026-02-20'),
      reference: 'WIRE-2026-0142',
    });
    payments.push({ amount: pay, state: invoice.state, balance_due: invoice.balance_due.amount });
    step(`payment ${pay} -> ${shortEnum(invoice.state)}, balance due ${invoice.balance_due.amount}`);
  }
  invoice = await q.getInvoice(invoice.invoice_id);

  eng = await q.completeEngagement(eng.engagement_id);
  step(`delivery complete -> ${shortEnum(eng.state)}`);

  const audit = await q.listAuditRecords(eng.engagement_id, { page_size: 100 });
  const verdict = await q.verifyAuditLog();
  step(`audit: ${audit.audit_records.length} records for the engagement; log verified ok=${verdict.ok} (${verdict.records_checked} records)`);

  return { customer, rateCard, engagement: eng, readiness, invoice, payments, audit, verdict };
}

/** The tenant and the two principals of the example's minted tokens. */
export const TENANT = 'acme-consulting';
export const SUBMITTER = 'node-example';
export const APPROVER = 'node-approver';

/**
 * Command line: --target HOST:PORT (or Q2C_TARGET) with --token / --approver-token (or
 * Q2C_TOKEN / Q2C_APPROVER_TOKEN), else start a local server and mint tokens from its key.
 */
async function main() {
  const { values } = parseArgs({
    options: { target: { type: 'string' }, token: { type: 'string' }, 'approver-token': { type: 'string' } },
  });
  const target = values.target ?? process.env.Q2C_TARGET;
  const server = target ? undefined : await startServer();
  let token = values.token ?? process.env.Q2C_TOKEN;
  let approverToken = values['approver-token'] ?? process.env.Q2C_APPROVER_TOKEN ?? token;
  if (server) {
    console.log(`q2c started on ${server.target} (SQLite, --local), trusting the development key in ${server.devKeyDir}`);
    token = await server.mintToken({ tenant: TENANT, principal: SUBMITTER });
    approverToken = await server.mintToken({ tenant: TENANT, principal: APPROVER });
  } else if (!token) {
    throw new Error('--target needs --token (or Q2C_TOKEN): mint one with q2c auth token');
  }
  const address = target ?? /** @type {any} */ (server).target;
  const q = new Q2cClient(address, { token });
  const approver = new Q2cClient(address, { token: approverToken, correlationId: q.correlationId });
  try {
    const { verdict } = await runLifecycle(q, (line) => console.log(line), approver);
    if (!verdict.ok) throw new Error('audit log does not verify');
  } finally {
    q.close();
    approver.close();
    if (server) console.log(`server stopped (exit code ${await server.stop()})`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
