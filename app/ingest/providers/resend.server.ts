/**
 * Resend webhooks, signed by the Standard Webhooks scheme
 * (github.com/standard-webhooks/standard-webhooks): webhook-signature is a
 * space-separated list of `v1,<base64 HMAC-SHA256("id.timestamp.body")>`
 * keyed with the base64 secret after `whsec_`. Any listed signature may
 * match, so keys can rotate. A timestamp more than five minutes away from
 * the server clock is rejected, which bounds the replay of a captured
 * request. Dedup on webhook-id turns a replay inside the window into a
 * duplicate. Svix sends the same headers with the `svix-` prefix.
 */
import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult } from "../http";
import type { MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  acknowledgement,
  emailAddressOf,
  hmac,
  checkedStatus,
  InvalidFieldError,
  invalidFieldResult,
  jsonTypeOf,
  optionalJsonArray,
  optionalJsonString,
  parseJsonBody,
  rejected,
  rejectionResult,
  replayOfId,
  requireJsonObject,
  requireJsonString,
  safeEqual,
  storeDelivery,
  unsupportedMediaType,
  VERIFIED,
  wrongTypeError,
  type ProviderDelivery,
  type Verification,
  readProviderBody,
} from "./common.server";

/** Seconds a webhook-timestamp may differ from the server clock. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = "whsec_";

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Reads webhook-* headers, falling back to svix-*. */
export function standardWebhookHeaders(
  header: (name: string) => string | undefined,
): StandardWebhookHeaders {
  return {
    id: header("webhook-id") ?? header("svix-id"),
    timestamp: header("webhook-timestamp") ?? header("svix-timestamp"),
    signature: header("webhook-signature") ?? header("svix-signature"),
  };
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX)
    ? secret.slice(SECRET_PREFIX.length)
    : secret;
  return Buffer.from(encoded, "base64");
}

/** Computes one `v1,<base64>` signature of `body`. */
export function standardWebhookSignature(
  secret: string,
  id: string,
  timestamp: string,
  body: Buffer | string,
): string {
  const signed = Buffer.concat([
    Buffer.from(`${id}.${timestamp}.`),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
  ]);
  return `v1,${hmac("sha256", secretKey(secret), signed).toString("base64")}`;
}

/** Verifies the signature list and the timestamp window of a request. */
export function verifyStandardWebhook(
  secret: string,
  headers: StandardWebhookHeaders,
  body: Buffer,
  now: Date,
): Verification {
  const { id, timestamp, signature } = headers;
  if (id === undefined) return rejected("webhook-id header is missing");
  if (timestamp === undefined) {
    return rejected("webhook-timestamp header is missing");
  }
  if (signature === undefined) {
    return rejected("webhook-signature header is missing");
  }
  if (!/^\d{1,15}$/.test(timestamp)) {
    return rejected(
      `webhook-timestamp must be Unix seconds, got ${JSON.stringify(timestamp.slice(0, 40))}`,
    );
  }
  const skew = Number(timestamp) - Math.floor(now.getTime() / 1000);
  if (Math.abs(skew) > TIMESTAMP_TOLERANCE_SECONDS) {
    return rejected(
      `webhook-timestamp is ${Math.abs(skew)} seconds ${skew < 0 ? "in the past" : "in the future"}; at most ${TIMESTAMP_TOLERANCE_SECONDS} seconds are allowed. Check the server clock.`,
    );
  }
  const expected = standardWebhookSignature(secret, id, timestamp, body);
  let matched = false;
  for (const candidate of signature.split(" ")) {
    if (safeEqual(candidate, expected)) matched = true;
  }
  if (!matched) {
    return rejected(
      "webhook-signature has no v1 signature matching the body. Check RESEND_WEBHOOK_SECRET.",
    );
  }
  return VERIFIED;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Joins the addresses of data.to, which Resend sends as an array of
 * strings. A single string is accepted too, and an absent field gives "".
 */
function addressList(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return emailAddressOf(value);
  if (!Array.isArray(value)) {
    throw wrongTypeError(field, "an array of strings", value);
  }
  return value
    .map((item, i) => {
      if (typeof item !== "string") {
        throw wrongTypeError(`${field}[${i}]`, "a string", item);
      }
      return emailAddressOf(item);
    })
    .join(", ");
}

/** Maps data.attachments, which carry metadata but no content, to media items. */
function attachmentsOf(value: unknown): MediaItem[] {
  const list = optionalJsonArray(value, "data.attachments");
  return list.map((attachment, i) => {
    const path = `data.attachments[${i}]`;
    if (!isObject(attachment)) {
      throw wrongTypeError(path, "an object", attachment);
    }
    const id = optionalJsonString(attachment.id, `${path}.id`);
    const name = optionalJsonString(attachment.filename, `${path}.filename`);
    const contentType = optionalJsonString(
      attachment.content_type,
      `${path}.content_type`,
    );
    const item: MediaItem = {};
    if (id !== null) item.id = id;
    if (name !== null) item.name = name;
    if (contentType !== null) item.contentType = contentType;
    return item;
  });
}

/**
 * Maps an event to a message (email.received) or a status update of a sent
 * email (email.delivered, email.bounced and the other email.* events).
 */
export function resendDelivery(
  json: unknown,
  webhookId: string,
  body: Buffer,
  request: InboundRequest,
): ProviderDelivery {
  if (!isObject(json)) {
    throw new InvalidFieldError(
      "(root)",
      `Body must be a JSON object, got ${jsonTypeOf(json)}`,
    );
  }
  const type = requireJsonString(json.type, "type");
  const data = requireJsonObject(json.data, "data");
  // Resend also sends contact and domain events to the same endpoint. They
  // carry no message, so they are acknowledged (recorded as verified) and
  // not stored; a 4xx would make Resend retry them.
  if (!type.startsWith("email.")) {
    return { messages: [], statuses: [] };
  }
  if (type !== "email.received") {
    const emailId = requireJsonString(data.email_id, "data.email_id");
    return {
      messages: [],
      statuses: [
        {
          provider: "resend",
          channel: "email",
          externalMessageId: emailId,
          messageDedupKey: `resend:${emailId}`,
          status: checkedStatus(type.replace(/^email\./, ""), "type"),
          errorCode: null,
          payload: json,
        },
      ],
    };
  }
  const from = requireJsonString(data.from, "data.from");
  const emailId = optionalJsonString(data.email_id, "data.email_id");
  const message: NormalizedMessage = {
    channel: "email",
    provider: "resend",
    dedupKey: `resend:${webhookId}`,
    dedupKind: "id",
    externalId: emailId ?? webhookId,
    sender: emailAddressOf(from),
    recipient: addressList(data.to, "data.to"),
    subject: optionalJsonString(data.subject, "data.subject"),
    // NOTE: Resend's email.received event carries metadata only; the body
    // has to be fetched from Resend's received-emails API by email_id.
    text: optionalJsonString(data.text, "data.text") ?? "",
    payload: json,
    rawBody: body,
    headers: selectHeaders(request),
    media: attachmentsOf(data.attachments),
    replayOfId: replayOfId(request),
  };
  return { messages: [message], statuses: [] };
}

/** Handles POST /api/webhooks/resend/email. */
export async function handleResend(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const secret = context.env.RESEND_WEBHOOK_SECRET;
  const read = await readProviderBody(
    request,
    context,
    "resend",
    "email",
    secret,
  );
  if (!Buffer.isBuffer(read)) return read;
  const body = read;
  const headers = standardWebhookHeaders(request.header);
  if (secret !== undefined) {
    const verification = verifyStandardWebhook(
      secret,
      headers,
      body,
      context.now(),
    );
    if (!verification.ok) {
      return rejectionResult(verification, "resend", "email", body, request);
    }
  }
  const unsupported = unsupportedMediaType(
    request,
    ["application/json"],
    "resend",
    "email",
  );
  if (unsupported) return unsupported;
  let delivery: ProviderDelivery;
  try {
    const webhookId = headers.id;
    if (webhookId === undefined) {
      throw new InvalidFieldError("webhook-id", "webhook-id header is missing");
    }
    delivery = resendDelivery(parseJsonBody(body), webhookId, body, request);
  } catch (error) {
    return invalidFieldResult(error, "resend", "email", body);
  }
  const entries = await storeDelivery(delivery, context);
  return acknowledgement("resend", entries, context.env);
}
