import { createHmac, timingSafeEqual } from "node:crypto";
import type pg from "pg";
import { charsetOf, mediaType, readBody } from "../body.server";
import type { Env } from "~/env.server";
import { logger } from "~/logger.server";
import type { IngestContext } from "../context.server";
import {
  errorResult,
  JSON_HEADERS,
  type InboundRequest,
  type IngestResult,
  type RecordEntry,
} from "../http";
import { indexableKey } from "../index-key.server";
import { jsonDepth, MAX_JSON_DEPTH } from "../json-depth";
import { findUnstorableText } from "../json-text";
import type { Channel, NormalizedMessage } from "../message";
import { replayOfHeader } from "../request-headers.server";
import { storeMessage } from "../store.server";

/** The providers served under /api/webhooks/:provider/:channel. */
export const PROVIDERS = [
  "twilio",
  "meta",
  "sendgrid",
  "mailgun",
  "postmark",
  "resend",
] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * Compares two signatures in constant time. Inputs of different length
 * return false at once, which reveals only the length of the expected value.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = typeof a === "string" ? Buffer.from(a) : a;
  const right = typeof b === "string" ? Buffer.from(b) : b;
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

export function hmac(
  algorithm: "sha1" | "sha256",
  key: string | Buffer,
  data: string | Buffer,
): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

/** A failed signature or credentials check, with the response status. */
export interface Rejection {
  ok: false;
  status: number;
  outcome: "unauthorized" | "forbidden";
  message: string;
}

/** The outcome of checking a request's signature or credentials. */
export type Verification = { ok: true } | Rejection;

export const VERIFIED: Verification = { ok: true };

export function rejected(
  message: string,
  status = 401,
  outcome: "unauthorized" | "forbidden" = "unauthorized",
): Rejection {
  return { ok: false, status, outcome, message };
}

/** Builds the 401, 403 or 406 response for a failed verification. */
export function rejectionResult(
  verification: Rejection,
  provider: Provider,
  channel: Channel | null,
  body: Buffer | null,
  request: InboundRequest,
): IngestResult {
  logger.warn(
    {
      requestId: request.requestId,
      provider,
      status: verification.status,
      reason: verification.message,
    },
    "webhook signature rejected",
  );
  return {
    ...errorResult(
      verification.status,
      verification.outcome,
      verification.outcome,
      verification.message,
      { provider, channel },
    ),
    rawBody: body,
  };
}

/** The names of the variables that hold each provider's secret. */
export const SECRET_VARIABLES: Record<Provider, string> = {
  twilio: "TWILIO_AUTH_TOKEN",
  meta: "META_APP_SECRET",
  sendgrid: "SENDGRID_VERIFICATION_KEY",
  mailgun: "MAILGUN_WEBHOOK_SIGNING_KEY",
  postmark: "POSTMARK_BASIC_AUTH",
  resend: "RESEND_WEBHOOK_SECRET",
};

/**
 * Handles a provider whose secret is not set. With
 * ALLOW_UNSIGNED_WEBHOOKS=true it logs a warning and returns null, so the
 * request goes on unverified. Otherwise it returns the 503 response.
 */
export function unconfiguredResult(
  provider: Provider,
  channel: Channel | null,
  request: InboundRequest,
  env: Env,
): IngestResult | null {
  const variable = SECRET_VARIABLES[provider];
  if (env.ALLOW_UNSIGNED_WEBHOOKS) {
    logger.warn(
      { requestId: request.requestId, provider, variable },
      "accepting an unsigned webhook because ALLOW_UNSIGNED_WEBHOOKS=true",
    );
    return null;
  }
  logger.error(
    { requestId: request.requestId, provider, variable },
    "webhook rejected: provider not configured",
  );
  return errorResult(
    503,
    "not_configured",
    "not_configured",
    `The ${provider} endpoint is not configured: set ${variable} to verify its webhooks, or ALLOW_UNSIGNED_WEBHOOKS=true to accept them unverified.`,
    { provider, channel },
  );
}

/**
 * Reads the raw body of a request to a provider whose secret may be unset.
 * Without the secret it returns the 503 result instead, unless
 * ALLOW_UNSIGNED_WEBHOOKS=true lets the request go on unverified.
 */
export async function readProviderBody(
  request: InboundRequest,
  context: IngestContext,
  provider: Provider,
  channel: Channel | null,
  secret: string | undefined,
): Promise<Buffer | IngestResult> {
  if (secret === undefined) {
    const unconfigured = unconfiguredResult(
      provider,
      channel,
      request,
      context.env,
    );
    if (unconfigured) return unconfigured;
  }
  return readBody(
    request.body,
    context.env.BODY_LIMIT_BYTES,
    request.header("content-length"),
  );
}

/** Builds the 400 response for a malformed body, naming the field. */
export function invalidResult(
  provider: Provider,
  channel: Channel | null,
  message: string,
  field: string,
  body: Buffer,
): IngestResult {
  return {
    ...errorResult(400, "invalid", "invalid_payload", message, {
      provider,
      channel,
      extra: { issues: [{ path: field, message }] },
    }),
    rawBody: body,
  };
}

/** Raised by a body parser for a missing or malformed field. */
export class InvalidFieldError extends Error {
  constructor(
    public readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidFieldError";
  }
}

export function requireField(
  value: string | undefined | null,
  field: string,
): string {
  if (value === undefined || value === null || value.trim() === "") {
    throw new InvalidFieldError(field, `${field} is missing`);
  }
  return value;
}

/** A JSON object parsed from a request body. */
export type JsonObject = Record<string, unknown>;

/** Returns the JSON type of a parsed value for messages, such as "array". */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Builds the error for a JSON field that is present but of another type:
 * `From must be a string, got number`.
 */
export function wrongTypeError(
  field: string,
  expected: "a string" | "an object" | "an array" | "an array of strings",
  value: unknown,
): InvalidFieldError {
  return new InvalidFieldError(
    field,
    `${field} must be ${expected}, got ${jsonTypeOf(value)}`,
  );
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Returns a required string field of a JSON body. Raises InvalidFieldError
 * "is missing" for undefined, null or "", and "must be a string" for any
 * other type.
 */
export function requireJsonString(value: unknown, field: string): string {
  if (value === undefined || value === null || value === "") {
    throw new InvalidFieldError(field, `${field} is missing`);
  }
  if (typeof value !== "string") throw wrongTypeError(field, "a string", value);
  return value;
}

/**
 * Returns an optional string field of a JSON body, or null for undefined
 * and null. Raises InvalidFieldError for any other type.
 */
export function optionalJsonString(
  value: unknown,
  field: string,
): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw wrongTypeError(field, "a string", value);
  return value;
}

/**
 * Returns a required object field of a JSON body. Raises InvalidFieldError
 * "is missing" for undefined or null, and "must be an object" for any other
 * type, arrays included.
 */
export function requireJsonObject(value: unknown, field: string): JsonObject {
  if (value === undefined || value === null) {
    throw new InvalidFieldError(field, `${field} is missing`);
  }
  if (!isJsonObject(value)) throw wrongTypeError(field, "an object", value);
  return value;
}

/**
 * Returns an optional object field of a JSON body, or null for undefined
 * and null. Raises InvalidFieldError for any other type.
 */
export function optionalJsonObject(
  value: unknown,
  field: string,
): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isJsonObject(value)) throw wrongTypeError(field, "an object", value);
  return value;
}

/**
 * Returns an optional array field of a JSON body, or [] for undefined and
 * null. Raises InvalidFieldError for any other type.
 */
export function optionalJsonArray(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongTypeError(field, "an array", value);
  return value;
}

/** Returns the value of DUPLICATE_STATUS_<PROVIDER>, a 2xx status. */
export function duplicateStatusOf(env: Env, provider: Provider): number {
  const statuses: Record<Provider, number> = {
    twilio: env.DUPLICATE_STATUS_TWILIO,
    meta: env.DUPLICATE_STATUS_META,
    sendgrid: env.DUPLICATE_STATUS_SENDGRID,
    mailgun: env.DUPLICATE_STATUS_MAILGUN,
    postmark: env.DUPLICATE_STATUS_POSTMARK,
    resend: env.DUPLICATE_STATUS_RESEND,
  };
  return statuses[provider];
}

/**
 * The maximum length of a delivery status. The status is part of
 * status_event's unique key, whose btree entries are limited in size, and
 * the providers' statuses are short words such as "delivered".
 */
export const MAX_STATUS_LENGTH = 64;

/** Returns `status`, or raises InvalidFieldError when it is too long. */
export function checkedStatus(status: string, field: string): string {
  if (status.length > MAX_STATUS_LENGTH) {
    throw new InvalidFieldError(
      field,
      `${field} must be at most ${MAX_STATUS_LENGTH} characters, got ${status.length}`,
    );
  }
  return status;
}

/** A delivery status update, stored in status_event and never as a message. */
export interface StatusUpdate {
  provider: Provider;
  channel: Channel;
  externalMessageId: string;
  /** The dedup key of the message it belongs to, to link the stored row. */
  messageDedupKey: string;
  status: string;
  errorCode: string | null;
  payload: unknown;
}

export const INSERT_STATUS_EVENT = `
INSERT INTO status_event (provider, channel, external_message_id, message_id,
  status, error_code, payload)
VALUES ($1, $2, $3,
  (SELECT id FROM message WHERE channel COLLATE "C" = $2 AND dedup_key = $4), $5, $6, $7)
ON CONFLICT (provider, external_message_id, status) DO NOTHING
RETURNING id`;

/**
 * Stores `update` once per (provider, message id, status). A message id over
 * 512 bytes is stored as its SHA-256 digest (see indexableKey).
 */
export async function storeStatusUpdate(
  pool: pg.Pool,
  update: StatusUpdate,
): Promise<{ inserted: boolean }> {
  const { rows } = await pool.query({
    name: "insert_status_event",
    text: INSERT_STATUS_EVENT,
    values: [
      update.provider,
      update.channel,
      indexableKey(update.externalMessageId),
      indexableKey(update.messageDedupKey),
      update.status,
      update.errorCode,
      JSON.stringify(update.payload),
    ],
  });
  return { inserted: rows.length > 0 };
}

/** The messages and status updates of one verified provider request. */
export interface ProviderDelivery {
  messages: NormalizedMessage[];
  statuses: StatusUpdate[];
}

/**
 * Stores every message and status update of a delivery, in order, and
 * returns one record entry for each.
 */
export async function storeDelivery(
  delivery: ProviderDelivery,
  context: IngestContext,
): Promise<RecordEntry[]> {
  const entries: RecordEntry[] = [];
  for (const message of delivery.messages) {
    const stored = await storeMessage(
      context.pool,
      message,
      context.env.DEDUP_WINDOW_HOURS,
    );
    entries.push(
      stored.inserted
        ? {
            outcome: "accepted",
            channel: message.channel,
            messageId: stored.id,
          }
        : {
            outcome: "duplicate",
            channel: message.channel,
            duplicateOfId: stored.id,
          },
    );
  }
  for (const update of delivery.statuses) {
    await storeStatusUpdate(context.pool, update);
    entries.push({ outcome: "status_event", channel: update.channel });
  }
  return entries;
}

/**
 * Returns the response status of a stored delivery: the provider's duplicate
 * status when every entry was a duplicate, else 200.
 */
export function deliveryStatus(
  entries: RecordEntry[],
  provider: Provider,
  env: Env,
): number {
  const allDuplicates =
    entries.length > 0 &&
    entries.every((entry) => entry.outcome === "duplicate");
  return allDuplicates ? duplicateStatusOf(env, provider) : 200;
}

/** Builds the JSON acknowledgement that every provider but Twilio gets. */
export function acknowledgement(
  provider: Provider,
  entries: RecordEntry[],
  env: Env,
): IngestResult {
  const status = deliveryStatus(entries, provider, env);
  const body = {
    received: entries.length,
    accepted: entries.filter((entry) => entry.outcome === "accepted").length,
    duplicates: entries.filter((entry) => entry.outcome === "duplicate").length,
    statusEvents: entries.filter((entry) => entry.outcome === "status_event")
      .length,
    ids: entries.map((entry) => entry.messageId ?? entry.duplicateOfId ?? null),
  };
  return {
    status,
    headers: status === 204 ? {} : JSON_HEADERS,
    body: status === 204 ? "" : JSON.stringify(body),
    provider,
    records:
      entries.length > 0 ? entries : [{ outcome: "verified", channel: null }],
  };
}

/** Returns the X-Replay-Of UUID of a signed provider request, or null. */
export function replayOfId(request: InboundRequest): string | null {
  const value = replayOfHeader(request);
  return value === "invalid" ? null : value;
}

/** Parses an application/x-www-form-urlencoded body as UTF-8. */
export function parseForm(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString("utf8"));
}

/** Returns a form field's first value, or undefined when it is absent. */
export function field(form: URLSearchParams, name: string): string | undefined {
  return form.get(name) ?? undefined;
}

/** Takes the bare address out of `Name <address>`. */
export function emailAddressOf(value: string): string {
  const match = /<([^<>]+)>\s*$/.exec(value);
  return (match ? match[1] : value).trim();
}

/**
 * Parses a UTF-8 JSON body. Raises InvalidFieldError when it is not JSON,
 * nests deeper than MAX_JSON_DEPTH, or contains a value that cannot be stored
 * (NUL, a lone surrogate, a number that parses as Infinity), so no message
 * of the delivery is stored before the error.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (jsonDepth(body) > MAX_JSON_DEPTH) {
    throw new InvalidFieldError(
      "(root)",
      `JSON nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects; flatten the payload.`,
    );
  }
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidFieldError(
      "(root)",
      `Body is not valid UTF-8 JSON: ${reason}`,
    );
  }
  const unstorable = findUnstorableText(text, json);
  if (unstorable) {
    throw new InvalidFieldError(
      unstorable.path,
      `${unstorable.path} ${unstorable.message}`,
    );
  }
  return json;
}

/**
 * Raises InvalidFieldError naming the field of `payload` that PostgreSQL
 * cannot store: a NUL character, which a form or multipart body can carry
 * as %00 or a raw byte. parseJsonBody already checks JSON bodies.
 */
export function checkStorablePayload(payload: unknown): void {
  const unstorable = findUnstorableText(JSON.stringify(payload), payload);
  if (unstorable) {
    throw new InvalidFieldError(
      unstorable.path,
      `${unstorable.path} ${unstorable.message}`,
    );
  }
}

/**
 * Returns a 415 response unless the Content-Type is one of `types`, or when
 * a JSON body declares a charset other than UTF-8, which parseJsonBody
 * would decode wrongly. JSON exchanged between systems is UTF-8 (RFC 8259
 * section 8.1).
 */
export function unsupportedMediaType(
  request: InboundRequest,
  types: readonly string[],
  provider: Provider,
  channel: Channel | null,
): IngestResult | null {
  const header = request.header("content-type");
  const type = mediaType(header);
  if (types.includes(type)) {
    const charset = type === "application/json" ? jsonCharsetOf(header) : null;
    if (charset === null || charset === "utf-8" || charset === "utf8") {
      return null;
    }
    return errorResult(
      415,
      "unsupported_media_type",
      "unsupported_media_type",
      `Content-Type charset must be utf-8, got ${JSON.stringify(charset)}. Send the JSON body encoded as UTF-8, with charset=utf-8 or no charset.`,
      { provider, channel },
    );
  }
  return errorResult(
    415,
    "unsupported_media_type",
    "unsupported_media_type",
    `Content-Type must be ${types.join(" or ")}, got ${type === "" ? "none" : JSON.stringify(type)}.`,
    { provider, channel },
  );
}

/**
 * Returns the charset parameter of a JSON Content-Type, or null when there
 * is none. Providers are not held to the parameter syntax, so from a
 * malformed parameter list (a trailing `;`, a parameter without `=`) the
 * first `charset=` value is read without further checks.
 */
function jsonCharsetOf(header: string | undefined): string | null {
  try {
    return charsetOf(header);
  } catch {
    const match = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(header ?? "");
    return match ? match[1].toLowerCase() : null;
  }
}

/** Turns an InvalidFieldError into its 400 response and re-raises others. */
export function invalidFieldResult(
  error: unknown,
  provider: Provider,
  channel: Channel | null,
  body: Buffer,
): IngestResult {
  if (!(error instanceof InvalidFieldError)) throw error;
  return invalidResult(provider, channel, error.message, error.field, body);
}
