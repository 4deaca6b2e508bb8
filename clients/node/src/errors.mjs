// @ts-check
/**
 * q2c errors: a gRPC status plus the google.rpc.Status details of the
 * `grpc-status-details-bin` trailer (ErrorInfo, BadRequest, PreconditionFailure, ...).
 */

import { status as Status } from '@grpc/grpc-js';

import { errorDetailsRoot } from './protos.mjs';

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Code number -> name, e.g. 5 -> 'NOT_FOUND'. */
const CODE_NAMES = Object.fromEntries(
  Object.entries(Status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value, name]),
);

/**
 * @typedef {object} FieldViolation
 * @property {string} field        Path of the bad field, e.g. "entries[0].hours".
 * @property {string} description  What is wrong with it.
 */

/**
 * @typedef {object} PreconditionViolation
 * @property {string} type
 * @property {string} subject
 * @property {string} description
 */

/**
 * @typedef {object} StatusDetail
 * @property {string} type   Full message name, e.g. "google.rpc.ErrorInfo".
 * @property {Record<string, any>} value  The decoded message (snake_case fields), or
 *   `{ raw: Buffer }` for a type not known to this client.
 */

/** A failed q2c call. */
export class Q2cError extends Error {
  /**
   * @param {object} init
   * @param {number} init.code           Canonical gRPC code (5 = NOT_FOUND).
   * @param {string} init.details        The status message.
   * @param {string} init.method         The RPC, e.g. "EngagementService/GetEngagement".
   * @param {StatusDetail[]} [init.statusDetails]
   * @param {import('@grpc/grpc-js').Metadata} [init.metadata]  The trailers.
   * @param {unknown} [init.cause]
   */
  constructor({ code, details, method, statusDetails = [], metadata, cause }) {
    const codeName = CODE_NAMES[code] ?? String(code);
    const info = statusDetails.find((d) => d.type === 'google.rpc.ErrorInfo')?.value;
    super(`${method}: ${codeName}${info?.reason ? ` (${info.reason})` : ''}: ${details}`, { cause });
    this.name = 'Q2cError';
    /** Canonical gRPC status code. */
    this.code = code;
    /** Its name, e.g. "NOT_FOUND". */
    this.codeName = codeName;
    /** The human-readable status message. */
    this.details = details;
    /** The RPC that failed. */
    this.method = method;
    /** ErrorInfo.reason, e.g. "ENGAGEMENT_NOT_FOUND"; empty when the server sent none. */
    this.reason = info?.reason ?? '';
    /** ErrorInfo.domain ("q2c.v1"). */
    this.domain = info?.domain ?? '';
    /** @type {Record<string, string>} ErrorInfo.metadata (dynamic values). */
    this.errorMetadata = info?.metadata ?? {};
    /** @type {FieldViolation[]} BadRequest field violations (INVALID_ARGUMENT). */
    this.fieldViolations = statusDetails
      .filter((d) => d.type === 'google.rpc.BadRequest')
      .flatMap((d) => d.value.field_violations ?? []);
    /** @type {PreconditionViolation[]} PreconditionFailure violations. */
    this.preconditionViolations = statusDetails
      .filter((d) => d.type === 'google.rpc.PreconditionFailure')
      .flatMap((d) => d.value.violations ?? []);
    /** Every decoded detail of the google.rpc.Status. */
    this.statusDetails = statusDetails;
    /** The response trailers. */
    this.metadata = metadata;
  }
}

/**
 * Decodes a serialized google.rpc.Status; unpacks each detail Any by its type_url.
 * @param {Buffer | Uint8Array} bytes
 * @returns {{ code: number, message: string, details: StatusDetail[] }}
 */
export function decodeStatus(bytes) {
  const root = errorDetailsRoot();
  const StatusType = root.lookupType('google.rpc.Status');
  const decoded = StatusType.decode(bytes);
  /** @type {{ code?: number, message?: string, details?: { type_url: string, value: Uint8Array }[] }} */
  const status = StatusType.toObject(decoded, { defaults: true });
  const details = (status.details ?? []).map((any) => {
    const type = any.type_url.startsWith(TYPE_URL_PREFIX)
      ? any.type_url.slice(TYPE_URL_PREFIX.length)
      : any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    let messageType;
    try {
      messageType = root.lookupType(type);
    } catch {
      return { type, value: { raw: Buffer.from(any.value) } };
    }
    const value = messageType.toObject(messageType.decode(any.value), {
      defaults: true,
      arrays: true,
      objects: true,
      longs: String,
      enums: String,
    });
    return { type, value };
  });
  return { code: status.code ?? 0, message: status.message ?? '', details };
}

/**
 * Turns a grpc-js ServiceError into a Q2cError (anything else is returned unchanged).
 * @param {unknown} error
 * @param {string} method
 * @returns {unknown}
 */
export function toQ2cError(error, method) {
  const e = /** @type {import('@grpc/grpc-js').ServiceError} */ (error);
  if (!e || typeof e !== 'object' || typeof e.code !== 'number') return error;
  /** @type {StatusDetail[]} */
  let statusDetails = [];
  const raw = e.metadata?.get('grpc-status-details-bin')?.[0];
  if (raw && typeof raw !== 'string') {
    try {
      statusDetails = decodeStatus(raw).details;
    } catch (decodeError) {
      statusDetails = [{ type: 'undecodable', value: { raw, error: String(decodeError) } }];
    }
  }
  return new Q2cError({
    code: e.code,
    details: e.details ?? e.message,
    method,
    statusDetails,
    metadata: e.metadata,
    cause: error,
  });
}
