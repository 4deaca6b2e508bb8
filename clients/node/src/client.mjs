// @ts-check
/**
 * A small, promise-based client for q2c (package q2c.v1).
 *
 * Messages are plain objects with the .proto field names (snake_case), enums as their names
 * ("ENGAGEMENT_STATE_ACTIVE"), int64 as decimal strings, money and hours as decimal strings.
 *
 * Every call carries `authorization: Bearer <token>` (the token decides tenant and principal;
 * `x-tenant-id` / `x-principal` are sent only as hints when given), x-correlation-id and a
 * deadline; every mutation (a request with a `request_id` field) gets a fresh request_id
 * (crypto.randomUUID) unless the caller gives one, so the published retry policy
 * (protos/q2c/v1/service_config.json: UNAVAILABLE only, never UNAUTHENTICATED or
 * PERMISSION_DENIED) is safe for all of them. Failures reject with a {@link Q2cError} carrying
 * the code and the decoded google.rpc.ErrorInfo (reason CREDENTIALS_MISSING, TOKEN_EXPIRED,
 * SCOPE_MISSING, ...).
 *
 *   const q = new Q2cClient('127.0.0.1:50051', { token: process.env.Q2C_TOKEN });
 *   const eng = await q.getEngagement('eng-123');
 *   q.close();
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import * as grpc from '@grpc/grpc-js';

import { Q2cError, toQ2cError } from './errors.mjs';
import { PROTO_ROOT, loadQ2c } from './protos.mjs';

export { Q2cError, decodeStatus } from './errors.mjs';

export const DEFAULT_DEADLINE_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Message shapes (the subset this client's callers use most; every field of the .proto is
// present on responses).

/**
 * @typedef {object} Money
 * @property {string} currency_code  ISO-4217, e.g. "USD".
 * @property {string} amount         Exact decimal string, e.g. "1234.50".
 */

/**
 * google.type.Date.
 * @typedef {object} PbDate
 * @property {number} year
 * @property {number} month
 * @property {number} day
 */

/**
 * A calendar month ("2026-01") or a range of days.
 * @typedef {object} BillingPeriod
 * @property {string} [month]
 * @property {PbDate | null} [start_date]
 * @property {PbDate | null} [end_date]
 */

/**
 * @typedef {object} TaxProfile
 * @property {string} [jurisdiction]
 * @property {string} [rate]
 * @property {boolean} [exempt]
 */

/**
 * @typedef {object} Customer
 * @property {string} [customer_id]
 * @property {string} display_name
 * @property {string} [legal_entity]
 * @property {string} billing_currency
 * @property {TaxProfile | null} [tax_profile]
 * @property {number} [payment_terms_days]
 * @property {boolean} [po_required]
 * @property {string} [service_line]
 * @property {string} [status]  e.g. "CUSTOMER_STATUS_ACTIVE".
 * @property {string} [etag]
 */

/**
 * @typedef {object} RoleRate
 * @property {string} role
 * @property {Money} hourly_rate
 */

/**
 * @typedef {object} RateCard
 * @property {string} [rate_card_id]
 * @property {number} [revision]
 * @property {string} display_name
 * @property {string} currency_code
 * @property {PbDate} effective_from
 * @property {PbDate | null} [effective_to]
 * @property {RoleRate[]} rates
 */

/**
 * A contract billing line; set exactly one of the terms.
 * @typedef {object} BillingLine
 * @property {string} line_id
 * @property {string} [description]
 * @property {{ rate_card_id: string, not_to_exceed?: Money | null }} [time_and_materials]
 * @property {{ milestones: { milestone_id: string, display_name?: string, amount: Money, due_date?: PbDate | null }[] }} [fixed_fee]
 * @property {{ amount_per_month: Money }} [retainer]
 * @property {{ markup_percent: string }} [pass_through_expenses]
 * @property {{ amount_per_period: Money, period: string }} [subscription]
 * @property {string} [terms]          On responses: which terms are set.
 * @property {string} [billing_model]  On responses, e.g. "BILLING_MODEL_FIXED_FEE".
 */

/**
 * @typedef {object} TimeEntryInput
 * @property {string} entry_id
 * @property {string} billing_line_id
 * @property {string} person
 * @property {string} role
 * @property {PbDate} work_date
 * @property {string} hours  Decimal string, > 0 and <= 24.
 * @property {string} [description]
 */

/**
 * @typedef {object} ExpenseInput
 * @property {string} expense_id
 * @property {string} billing_line_id
 * @property {string} category
 * @property {PbDate} incurred_date
 * @property {Money} amount
 * @property {string} [description]
 */

/**
 * @typedef {TimeEntryInput & { status: string, rejection_reason: string, invoice_id: string }} TimeEntry
 * @typedef {ExpenseInput & { status: string, rejection_reason: string, invoice_id: string }} Expense
 * @typedef {{ milestone_id: string, billing_line_id: string, display_name: string, amount: Money, status: string, invoice_id: string }} Milestone
 */

/**
 * @typedef {object} Contract
 * @property {number} revision
 * @property {string} currency_code
 * @property {PbDate | null} start_date
 * @property {PbDate | null} end_date
 * @property {string} po_reference
 * @property {BillingLine[]} billing_lines
 */

/**
 * @typedef {object} Engagement
 * @property {string} engagement_id
 * @property {string} customer_id
 * @property {string} display_name
 * @property {string} state            e.g. "ENGAGEMENT_STATE_ACTIVE".
 * @property {string} held_from_state
 * @property {string} held_step
 * @property {Contract | null} contract
 * @property {TimeEntry[]} time_entries
 * @property {Expense[]} expenses
 * @property {Milestone[]} milestones
 * @property {string[]} open_exception_ids
 * @property {string} version          int64 as a decimal string.
 * @property {string} etag
 * @property {string[]} invoice_ids
 */

/**
 * @typedef {object} InvoiceLine
 * @property {string} line_id
 * @property {string} source       e.g. "INVOICE_LINE_SOURCE_TIME_ENTRY".
 * @property {string} source_id
 * @property {string} billing_line_id
 * @property {string} description
 * @property {string} quantity
 * @property {Money} unit_price
 * @property {Money} amount
 * @property {string} rounding_rule
 */

/**
 * @typedef {object} Invoice
 * @property {string} invoice_id
 * @property {string} engagement_id
 * @property {string} customer_id
 * @property {BillingPeriod} period
 * @property {string} state        e.g. "INVOICE_STATE_PAID".
 * @property {string} currency_code
 * @property {InvoiceLine[]} lines
 * @property {Money} subtotal
 * @property {{ jurisdiction: string, rate: string, exempt: boolean, amount: Money, rounding_rule: string }} tax
 * @property {Money} total
 * @property {Money} amount_paid
 * @property {Money} balance_due
 * @property {PbDate | null} issue_date
 * @property {PbDate | null} due_date
 * @property {string} etag
 */

/**
 * @typedef {object} InvoiceReadiness
 * @property {string} engagement_id
 * @property {boolean} ready
 * @property {InvoiceLine[]} billable_lines
 * @property {Money} subtotal
 * @property {Money} tax
 * @property {Money} total
 * @property {{ kind: string, message: string, item_ids: string[] }[]} blockers
 */

/**
 * @typedef {object} BusinessException
 * @property {string} exception_id
 * @property {string} engagement_id
 * @property {string} step
 * @property {string} check
 * @property {string} severity
 * @property {string} state
 * @property {string} message
 */

/**
 * @typedef {object} AuditRecord
 * @property {string} stream_id
 * @property {string} sequence
 * @property {string} principal
 * @property {string} tenant_id
 * @property {string} command_type
 * @property {string} request_id
 * @property {string} correlation_id
 * @property {string} outcome
 * @property {string} rejection_reason
 * @property {string} hash
 */

/**
 * @typedef {object} BillRun
 * @property {string} bill_run_id
 * @property {BillingPeriod} period
 * @property {string} state
 * @property {string} engagements_total
 * @property {string} engagements_processed
 * @property {string} invoices_created
 * @property {Money[]} invoiced_totals
 */

/**
 * An outbound ERP / PSA delivery item (delivery.proto); ids and positions are int64 strings.
 * @typedef {object} Delivery
 * @property {string} delivery_id
 * @property {string} destination  e.g. "DELIVERY_DESTINATION_ERP".
 * @property {string} operation    e.g. "DELIVERY_OPERATION_POST_INVOICE".
 * @property {string} status       e.g. "DELIVERY_STATUS_DEAD".
 * @property {string} key
 * @property {string} engagement_id
 * @property {string} subject_id
 * @property {string} invoice_id
 * @property {number} attempts
 * @property {string} failure_kind e.g. "DELIVERY_FAILURE_KIND_PERMANENT".
 * @property {string} last_error
 * @property {number} last_http_status
 * @property {string} last_payload
 * @property {{ attempt: number, delivered: boolean, failure_kind: string, message: string, http_status: number, payload: string }[]} attempt_history
 *   Filled by getDeadLetter only.
 */

/**
 * Delivery filters (enum names, e.g. destination "DELIVERY_DESTINATION_ERP").
 * @typedef {{ destination?: string, operation?: string, engagement_id?: string }} DeliveryFilter
 */

/**
 * Per-call options.
 * @typedef {object} CallOptions
 * @property {number} [deadlineMs]  Deadline from now; default: the client's.
 * @property {string} [requestId]   Mutations: the idempotency key to send (default: the
 *   request's own request_id, else a fresh UUID). Reuse it to retry safely.
 */

/**
 * TLS for the channel: PEM strings/Buffers or files. A CA verifies the server (default: the
 * system roots); a client certificate and key together turn on mutual TLS.
 * @typedef {object} TlsOptions
 * @property {string | Buffer} [ca]
 * @property {string} [caFile]
 * @property {string | Buffer} [cert]
 * @property {string} [certFile]
 * @property {string | Buffer} [key]
 * @property {string} [keyFile]
 */

/**
 * Client options.
 * @typedef {object} ClientOptions
 * @property {string} [token]          Bearer token sent on every call (e.g. from `q2c auth token`).
 * @property {() => string | Promise<string>} [tokenProvider]  Asked before every call for the
 *   current token (rotation, an identity provider's cache). Give `token` or this, not both.
 * @property {TlsOptions} [tls]        Speak TLS (mTLS with cert + key).
 * @property {string} [tenantId]       x-tenant-id hint, sent only when given; must match the token.
 * @property {string} [principal]      x-principal hint, sent only when given; must match the token.
 * @property {string} [correlationId]  x-correlation-id (default: a fresh UUID per client).
 * @property {number} [deadlineMs]     Default per-call deadline (30 s).
 * @property {grpc.ChannelCredentials} [credentials]  Ready-made channel credentials (instead of
 *   `tls`). Default: insecure.
 * @property {boolean} [retries]       Use the published retry policy (default true).
 * @property {grpc.ChannelOptions} [channelOptions]
 */

// ---------------------------------------------------------------------------------------------
// Helpers.

/**
 * A Money from a decimal string.
 * @param {string} amount
 * @param {string} currencyCode
 * @returns {Money}
 */
export function money(amount, currencyCode) {
  return { currency_code: currencyCode, amount };
}

/**
 * A google.type.Date from "YYYY-MM-DD".
 * @param {string} iso
 * @returns {PbDate}
 */
export function pbDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) throw new TypeError(`not a YYYY-MM-DD date: ${iso}`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/**
 * "YYYY-MM-DD" from a google.type.Date ("" for none).
 * @param {PbDate | null | undefined} date
 * @returns {string}
 */
export function dateString(date) {
  if (!date) return '';
  const pad = (/** @type {number} */ n, /** @type {number} */ w) => String(n).padStart(w, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/**
 * The short name of an enum value: shortEnum("ENGAGEMENT_STATE_ACTIVE") -> "ACTIVE" for the
 * well-known prefixes of q2c.v1.
 * @param {string} value
 * @returns {string}
 */
export function shortEnum(value) {
  const prefixes = [
    'ENGAGEMENT_STATE_', 'INVOICE_STATE_', 'INVOICE_LINE_SOURCE_', 'BILL_RUN_STATE_',
    'TIME_ENTRY_STATUS_', 'EXPENSE_STATUS_', 'MILESTONE_STATUS_', 'EXCEPTION_SEVERITY_',
    'EXCEPTION_STATE_', 'AUDIT_OUTCOME_', 'READINESS_BLOCKER_KIND_', 'GATED_STEP_',
    'CUSTOMER_STATUS_', 'BILLING_MODEL_', 'DELIVERY_DESTINATION_', 'DELIVERY_OPERATION_',
    'DELIVERY_STATUS_', 'DELIVERY_FAILURE_KIND_',
  ];
  const prefix = prefixes.find((p) => value.startsWith(p));
  return prefix ? value.slice(prefix.length) : value;
}

/**
 * `Bearer <token>`; a token that already carries the scheme is kept as it is.
 * @param {string} token
 * @returns {string}
 */
export function bearer(token) {
  const trimmed = String(token).trim();
  if (!trimmed) throw new TypeError('the bearer token is empty');
  return /^bearer\s+\S/i.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}

/**
 * grpc-js SSL channel credentials from TLS options.
 * @param {TlsOptions} tls
 * @returns {grpc.ChannelCredentials}
 */
export function tlsCredentials(tls) {
  /** @param {string | Buffer | undefined} pem @param {string | undefined} file */
  const read = (pem, file) => (pem !== undefined ? Buffer.from(pem) : file ? readFileSync(file) : null);
  const ca = read(tls.ca, tls.caFile);
  const cert = read(tls.cert, tls.certFile);
  const key = read(tls.key, tls.keyFile);
  if (Boolean(cert) !== Boolean(key)) throw new TypeError('tls: a client certificate and its key go together');
  return grpc.credentials.createSsl(ca, key, cert);
}

/** The published gRPC service config (retry UNAVAILABLE only), as JSON text. */
export function serviceConfig() {
  return JSON.stringify(JSON.parse(readFileSync(path.join(PROTO_ROOT, 'q2c', 'v1', 'service_config.json'), 'utf8')));
}

const SERVICES = /** @type {const} */ ([
  'CustomerService',
  'RateCardService',
  'EngagementService',
  'BillingService',
  'ExceptionService',
  'AuditService',
  'DeliveryService',
]);

/** @typedef {typeof SERVICES[number]} ServiceName */

/**
 * True when the method's request message has a request_id field (it is a mutation).
 * @param {any} methodDefinition
 */
function isMutation(methodDefinition) {
  const fields = methodDefinition?.requestType?.type?.field ?? [];
  return fields.some((/** @type {{name: string}} */ f) => f.name === 'request_id');
}

// ---------------------------------------------------------------------------------------------

/** A q2c connection: one channel, every service, metadata, deadlines, request ids. */
export class Q2cClient {
  /**
   * @param {string} target  host:port
   * @param {ClientOptions} [options]
   */
  constructor(target, options = {}) {
    this.target = target;
    if (options.token !== undefined && options.tokenProvider !== undefined) {
      throw new TypeError('give token or tokenProvider, not both');
    }
    if (options.tls && options.credentials) throw new TypeError('give tls or credentials, not both');
    /** @type {string | undefined} */
    this.tenantId = options.tenantId;
    /** @type {string | undefined} */
    this.principal = options.principal;
    this.correlationId = options.correlationId ?? randomUUID();
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const fixed = options.token !== undefined ? bearer(options.token) : undefined;
    const provider = options.tokenProvider;
    /** @type {() => Promise<string | undefined>} */
    this.authorization = async () => (provider ? bearer(await provider()) : fixed);
    const credentials =
      options.credentials ?? (options.tls ? tlsCredentials(options.tls) : grpc.credentials.createInsecure());
    /** @type {grpc.ChannelOptions} */
    const channelOptions = { ...(options.channelOptions ?? {}) };
    if (options.retries ?? true) {
      channelOptions['grpc.service_config'] = serviceConfig();
      channelOptions['grpc.enable_retries'] = 1;
    }
    const v1 = /** @type {Record<string, any>} */ (/** @type {any} */ (loadQ2c()).q2c.v1);
    /** @type {Record<string, any>} */
    this.stubs = {};
    /** @type {grpc.Channel | undefined} */
    let channel;
    for (const name of SERVICES) {
      const Stub = v1[name];
      const opts = channel ? { ...channelOptions, channelOverride: channel } : channelOptions;
      this.stubs[name] = new Stub(target, credentials, opts);
      channel ??= this.stubs[name].getChannel();
    }
    /** @type {grpc.Channel} */
    this.channel = /** @type {grpc.Channel} */ (channel);
  }

  /** Closes the channel. */
  close() {
    for (const stub of Object.values(this.stubs)) stub.close();
  }

  /**
   * Resolves once the channel is connected (or rejects after deadlineMs).
   * @param {number} [deadlineMs]
   * @returns {Promise<void>}
   */
  waitForReady(deadlineMs = this.deadlineMs) {
    return new Promise((resolve, reject) => {
      this.stubs.CustomerService.waitForReady(Date.now() + deadlineMs, (/** @type {Error | undefined} */ error) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  /**
   * Call metadata: the bearer token (asked of tokenProvider per call), the tenant / principal
   * hints when given, the correlation id.
   * @returns {Promise<grpc.Metadata>}
   */
  async metadata() {
    const md = new grpc.Metadata();
    const authorization = await this.authorization();
    if (authorization) md.set('authorization', authorization);
    if (this.tenantId) md.set('x-tenant-id', this.tenantId);
    if (this.principal) md.set('x-principal', this.principal);
    md.set('x-correlation-id', this.correlationId);
    return md;
  }

  /**
   * Calls any unary RPC, e.g. `call('EngagementService', 'GetEngagement', { engagement_id })`.
   * A mutation gets request_id = options.requestId ?? request.request_id ?? a fresh UUID.
   * @param {ServiceName} service
   * @param {string} method
   * @param {Record<string, any>} request
   * @param {CallOptions} [options]
   * @returns {Promise<any>}
   */
  call(service, method, request, options = {}) {
    const stub = this.stubs[service];
    const definition = stub?.constructor?.service?.[method];
    if (!definition) return Promise.reject(new TypeError(`unknown RPC ${service}/${method}`));
    const name = `${service}/${method}`;
    let message = request;
    if (isMutation(definition)) {
      message = { ...request, request_id: options.requestId || request.request_id || randomUUID() };
    }
    const deadline = Date.now() + (options.deadlineMs ?? this.deadlineMs);
    return this.metadata().then(
      (metadata) =>
        new Promise((resolve, reject) => {
          stub[method](message, metadata, { deadline }, (/** @type {unknown} */ error, /** @type {any} */ response) => {
            if (error) reject(toQ2cError(error, name));
            else resolve(response);
          });
        }),
    );
  }

  /**
   * Calls a server-streaming RPC; yields each message.
   * @param {ServiceName} service
   * @param {string} method
   * @param {Record<string, any>} request
   * @param {CallOptions} [options]
   * @returns {AsyncGenerator<any>}
   */
  async *stream(service, method, request, options = {}) {
    const stub = this.stubs[service];
    const metadata = await this.metadata();
    const deadline = Date.now() + (options.deadlineMs ?? this.deadlineMs);
    const call = stub[method](request, metadata, { deadline });
    try {
      for await (const message of call) yield message;
    } catch (error) {
      throw toQ2cError(error, `${service}/${method}`);
    } finally {
      call.cancel();
    }
  }

  // --- customers -------------------------------------------------------------------------

  /** @param {Customer} customer @param {CallOptions} [o] @returns {Promise<Customer>} */
  createCustomer(customer, o) {
    return this.call('CustomerService', 'CreateCustomer', { customer }, o);
  }

  /** @param {string} customerId @param {CallOptions} [o] @returns {Promise<Customer>} */
  getCustomer(customerId, o) {
    return this.call('CustomerService', 'GetCustomer', { customer_id: customerId }, o);
  }

  /**
   * Updates the fields named in `paths` (e.g. ["tax_profile"]); etag: optimistic concurrency.
   * @param {Partial<Customer> & { customer_id: string }} customer
   * @param {string[]} paths
   * @param {{ etag?: string } & CallOptions} [o]
   * @returns {Promise<Customer>}
   */
  updateCustomer(customer, paths, o = {}) {
    return this.call('CustomerService', 'UpdateCustomer', { customer, update_mask: { paths }, etag: o.etag ?? '' }, o);
  }

  // --- rate cards ------------------------------------------------------------------------

  /**
   * Creates a rate card, or the next revision of `rateCardId`.
   * @param {RateCard} rateCard @param {{ rateCardId?: string } & CallOptions} [o]
   * @returns {Promise<RateCard>}
   */
  createRateCard(rateCard, o = {}) {
    return this.call('RateCardService', 'CreateRateCard', { rate_card: rateCard, rate_card_id: o.rateCardId ?? '' }, o);
  }

  /** @param {string} rateCardId @param {number} [revision] @param {CallOptions} [o] @returns {Promise<RateCard>} */
  getRateCard(rateCardId, revision = 0, o) {
    return this.call('RateCardService', 'GetRateCard', { rate_card_id: rateCardId, revision }, o);
  }

  // --- engagements -----------------------------------------------------------------------

  /**
   * @param {{ customer_id: string, display_name: string, opportunity_ref?: string, expected_start_date?: PbDate, service_line?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<Engagement>}
   */
  createEngagement(request, o) {
    return this.call('EngagementService', 'CreateEngagement', request, o);
  }

  /** @param {string} engagementId @param {CallOptions} [o] @returns {Promise<Engagement>} */
  getEngagement(engagementId, o) {
    return this.call('EngagementService', 'GetEngagement', { engagement_id: engagementId }, o);
  }

  /**
   * @param {{ page_size?: number, page_token?: string, state?: string, customer_id?: string }} [request]
   * @param {CallOptions} [o]
   * @returns {Promise<{ engagements: Engagement[], next_page_token: string }>}
   */
  listEngagements(request = {}, o) {
    return this.call('EngagementService', 'ListEngagements', request, o);
  }

  /** DRAFT -> QUALIFIED. @param {string} engagementId @param {{ comment?: string } & CallOptions} [o] @returns {Promise<Engagement>} */
  qualifyEngagement(engagementId, o = {}) {
    return this.call('EngagementService', 'QualifyEngagement', { engagement_id: engagementId, comment: o.comment ?? '' }, o);
  }

  /** QUALIFIED -> WON (gated). @param {string} engagementId @param {{ comment?: string } & CallOptions} [o] @returns {Promise<Engagement>} */
  closeWonEngagement(engagementId, o = {}) {
    return this.call('EngagementService', 'CloseWonEngagement', { engagement_id: engagementId, comment: o.comment ?? '' }, o);
  }

  /**
   * WON -> CONTRACTED (gated).
   * @param {{ engagement_id: string, currency_code: string, start_date: PbDate, end_date?: PbDate, po_reference?: string, billing_lines: BillingLine[], comment?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<Engagement>}
   */
  approveContract(request, o) {
    return this.call('EngagementService', 'ApproveContract', request, o);
  }

  /**
   * CONTRACTED -> ACTIVE (gated).
   * @param {{ engagement_id: string, start_date?: PbDate, project_template_id?: string, staffing_plan?: { person: string, role: string }[], comment?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<Engagement>}
   */
  activateEngagement(request, o) {
    return this.call('EngagementService', 'ActivateEngagement', request, o);
  }

  /** @param {string} engagementId @param {TimeEntryInput[]} entries @param {CallOptions} [o] @returns {Promise<Engagement>} */
  submitTimeEntries(engagementId, entries, o) {
    return this.call('EngagementService', 'SubmitTimeEntries', { engagement_id: engagementId, entries }, o);
  }

  /** @param {string} engagementId @param {string[]} entryIds @param {CallOptions} [o] @returns {Promise<Engagement>} */
  approveTimeEntries(engagementId, entryIds, o) {
    return this.call('EngagementService', 'ApproveTimeEntries', { engagement_id: engagementId, entry_ids: entryIds }, o);
  }

  /** @param {string} engagementId @param {string[]} entryIds @param {string} reason @param {CallOptions} [o] @returns {Promise<Engagement>} */
  rejectTimeEntries(engagementId, entryIds, reason, o) {
    return this.call('EngagementService', 'RejectTimeEntries', { engagement_id: engagementId, entry_ids: entryIds, reason }, o);
  }

  /** @param {string} engagementId @param {ExpenseInput[]} expenses @param {CallOptions} [o] @returns {Promise<Engagement>} */
  submitExpenses(engagementId, expenses, o) {
    return this.call('EngagementService', 'SubmitExpenses', { engagement_id: engagementId, expenses }, o);
  }

  /** @param {string} engagementId @param {string[]} expenseIds @param {CallOptions} [o] @returns {Promise<Engagement>} */
  approveExpenses(engagementId, expenseIds, o) {
    return this.call('EngagementService', 'ApproveExpenses', { engagement_id: engagementId, expense_ids: expenseIds }, o);
  }

  /** @param {string} engagementId @param {string[]} expenseIds @param {string} reason @param {CallOptions} [o] @returns {Promise<Engagement>} */
  rejectExpenses(engagementId, expenseIds, reason, o) {
    return this.call('EngagementService', 'RejectExpenses', { engagement_id: engagementId, expense_ids: expenseIds, reason }, o);
  }

  /** @param {string} engagementId @param {string} milestoneId @param {CallOptions} [o] @returns {Promise<Engagement>} */
  completeMilestone(engagementId, milestoneId, o) {
    return this.call('EngagementService', 'CompleteMilestone', { engagement_id: engagementId, milestone_id: milestoneId }, o);
  }

  /** @param {string} engagementId @param {string} milestoneId @param {CallOptions} [o] @returns {Promise<Engagement>} */
  acceptMilestone(engagementId, milestoneId, o) {
    return this.call('EngagementService', 'AcceptMilestone', { engagement_id: engagementId, milestone_id: milestoneId }, o);
  }

  /** @param {string} engagementId @param {string} milestoneId @param {string} reason @param {CallOptions} [o] @returns {Promise<Engagement>} */
  rejectMilestone(engagementId, milestoneId, reason, o) {
    return this.call('EngagementService', 'RejectMilestone', { engagement_id: engagementId, milestone_id: milestoneId, reason }, o);
  }

  /** ACTIVE -> COMPLETED (or CLOSED when everything is billed and paid). @param {string} engagementId @param {CallOptions} [o] @returns {Promise<Engagement>} */
  completeEngagement(engagementId, o) {
    return this.call('EngagementService', 'CompleteEngagement', { engagement_id: engagementId }, o);
  }

  /** @param {string} engagementId @param {string} reason @param {CallOptions} [o] @returns {Promise<Engagement>} */
  cancelEngagement(engagementId, reason, o) {
    return this.call('EngagementService', 'CancelEngagement', { engagement_id: engagementId, reason }, o);
  }

  // --- billing ---------------------------------------------------------------------------

  /** @param {string} engagementId @param {BillingPeriod} period @param {CallOptions} [o] @returns {Promise<InvoiceReadiness>} */
  getInvoiceReadiness(engagementId, period, o) {
    return this.call('EngagementService', 'GetInvoiceReadiness', { engagement_id: engagementId, period }, o);
  }

  /** Creates the DRAFT invoice for the period. @param {string} engagementId @param {BillingPeriod} period @param {CallOptions} [o] @returns {Promise<Invoice>} */
  generateInvoice(engagementId, period, o) {
    return this.call('EngagementService', 'GenerateInvoice', { engagement_id: engagementId, period }, o);
  }

  /** DRAFT -> ISSUED. @param {string} invoiceId @param {CallOptions} [o] @returns {Promise<Invoice>} */
  issueInvoice(invoiceId, o) {
    return this.call('BillingService', 'IssueInvoice', { invoice_id: invoiceId }, o);
  }

  /**
   * @param {{ invoice_id: string, amount: Money, received_date: PbDate, reference?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<Invoice>}
   */
  recordPayment(request, o) {
    return this.call('BillingService', 'RecordPayment', request, o);
  }

  /** @param {string} invoiceId @param {CallOptions} [o] @returns {Promise<Invoice>} */
  getInvoice(invoiceId, o) {
    return this.call('BillingService', 'GetInvoice', { invoice_id: invoiceId }, o);
  }

  /**
   * @param {{ page_size?: number, page_token?: string, engagement_id?: string, customer_id?: string, state?: string, bill_run_id?: string }} [request]
   * @param {CallOptions} [o]
   * @returns {Promise<{ invoices: Invoice[], next_page_token: string }>}
   */
  listInvoices(request = {}, o) {
    return this.call('BillingService', 'ListInvoices', request, o);
  }

  /** @param {string} invoiceId @param {string} reason @param {CallOptions} [o] @returns {Promise<Invoice>} */
  voidInvoice(invoiceId, reason, o) {
    return this.call('BillingService', 'VoidInvoice', { invoice_id: invoiceId, reason }, o);
  }

  /**
   * @param {{ period: BillingPeriod, customer_ids?: string[], currency_code?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<BillRun>}
   */
  startBillRun(request, o) {
    return this.call('BillingService', 'StartBillRun', request, o);
  }

  /** @param {string} billRunId @param {CallOptions} [o] @returns {Promise<BillRun>} */
  getBillRun(billRunId, o) {
    return this.call('BillingService', 'GetBillRun', { bill_run_id: billRunId }, o);
  }

  /** Streams the bill run until a terminal state. @param {string} billRunId @param {CallOptions} [o] @returns {AsyncGenerator<BillRun>} */
  watchBillRun(billRunId, o) {
    return this.stream('BillingService', 'WatchBillRun', { bill_run_id: billRunId }, o);
  }

  // --- exceptions ------------------------------------------------------------------------

  /**
   * @param {{ page_size?: number, page_token?: string, state?: string, severity?: string, engagement_id?: string }} [request]
   * @param {CallOptions} [o]
   * @returns {Promise<{ exceptions: BusinessException[], next_page_token: string }>}
   */
  listExceptions(request = {}, o) {
    return this.call('ExceptionService', 'ListExceptions', request, o);
  }

  /** @param {string} exceptionId @param {CallOptions} [o] @returns {Promise<BusinessException>} */
  getException(exceptionId, o) {
    return this.call('ExceptionService', 'GetException', { exception_id: exceptionId }, o);
  }

  /**
   * @param {string} exceptionId @param {string} resolutionNote
   * @param {{ resolution?: string } & CallOptions} [o]  resolution: e.g. "EXCEPTION_RESOLUTION_RELEASE" for a cap exception.
   * @returns {Promise<BusinessException>}
   */
  resolveException(exceptionId, resolutionNote, o = {}) {
    return this.call(
      'ExceptionService',
      'ResolveException',
      { exception_id: exceptionId, resolution_note: resolutionNote, resolution: o.resolution ?? 'EXCEPTION_RESOLUTION_UNSPECIFIED' },
      o,
    );
  }

  // --- audit -----------------------------------------------------------------------------

  /**
   * @param {string} streamId @param {{ page_size?: number, page_token?: string } & CallOptions} [o]
   * @returns {Promise<{ audit_records: AuditRecord[], next_page_token: string }>}
   */
  listAuditRecords(streamId, o = {}) {
    return this.call('AuditService', 'ListAuditRecords', { stream_id: streamId, page_size: o.page_size ?? 0, page_token: o.page_token ?? '' }, o);
  }

  /**
   * @param {string} [streamId]  empty: every stream of the tenant.
   * @param {CallOptions} [o]
   * @returns {Promise<{ ok: boolean, records_checked: string, problem: string }>}
   */
  verifyAuditLog(streamId = '', o) {
    return this.call('AuditService', 'VerifyAuditLog', { stream_id: streamId }, o);
  }

  // --- deliveries ------------------------------------------------------------------------

  /**
   * @param {DeliveryFilter & { page_size?: number, page_token?: string }} [request]
   * @param {CallOptions} [o]
   * @returns {Promise<{ dead_letters: Delivery[], next_page_token: string }>}
   */
  listDeadLetters(request = {}, o) {
    return this.call('DeliveryService', 'ListDeadLetters', request, o);
  }

  /** One item with its attempt history. @param {string | number} deliveryId @param {CallOptions} [o] @returns {Promise<Delivery>} */
  getDeadLetter(deliveryId, o) {
    return this.call('DeliveryService', 'GetDeadLetter', { delivery_id: String(deliveryId) }, o);
  }

  /**
   * DEAD -> PENDING: one dead letter ({ delivery_id }) or every match ({ all_matching: true, ...filters }).
   * @param {DeliveryFilter & { delivery_id?: string | number, all_matching?: boolean, reason?: string, request_id?: string }} request
   * @param {CallOptions} [o]
   * @returns {Promise<{ delivery_ids: string[] }>}
   */
  retryDeadLetter(request, o) {
    const message = { ...request, delivery_id: String(request.delivery_id ?? 0) };
    return this.call('DeliveryService', 'RetryDeadLetter', message, o);
  }

  /**
   * @param {DeliveryFilter & { status?: string, page_size?: number, page_token?: string }} [request]
   * @param {CallOptions} [o]
   * @returns {Promise<{ deliveries: Delivery[], next_page_token: string }>}
   */
  listDeliveries(request = {}, o) {
    return this.call('DeliveryService', 'ListDeliveries', request, o);
  }

  /**
   * @param {CallOptions} [o]
   * @returns {Promise<{ destinations: { destination: string, pending: string, due: string, delivered: string, dead: string, attempts: string }[], outbox_lag: string }>}
   */
  getDeliveryStats(o) {
    return this.call('DeliveryService', 'GetDeliveryStats', {}, o);
  }
}
