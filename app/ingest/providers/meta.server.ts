/**
 * Meta WhatsApp Cloud API webhooks. The subscription handshake is a GET that
 * echoes hub.challenge when hub.verify_token matches META_VERIFY_TOKEN.
 * Events are POSTed as JSON batches signed with X-Hub-Signature-256 =
 * "sha256=" + hex HMAC-SHA256(app secret, raw body). Meta signs the body as
 * sent, with non-ASCII escaped as \uXXXX, so only the raw bytes verify.
 */
import { logger } from "~/logger.server";
import type { IngestContext } from "../context.server";
import { errorResult, type InboundRequest, type IngestResult } from "../http";
import type { MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  acknowledgement,
  checkedStatus,
  hmac,
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
  type StatusUpdate,
  type Verification,
  readProviderBody,
} from "./common.server";

export const META_SIGNATURE_HEADER = "x-hub-signature-256";
const SIGNATURE_PREFIX = "sha256=";

/** Computes X-Hub-Signature-256 for `body`. */
export function metaSignature(
  appSecret: string,
  body: Buffer | string,
): string {
  return SIGNATURE_PREFIX + hmac("sha256", appSecret, body).toString("hex");
}

export function verifyMetaSignature(
  appSecret: string,
  body: Buffer,
  header: string | undefined,
): Verification {
  if (header === undefined) {
    return rejected("X-Hub-Signature-256 header is missing");
  }
  if (!safeEqual(metaSignature(appSecret, body), header.trim().toLowerCase())) {
    return rejected(
      "X-Hub-Signature-256 does not match the body. Check META_APP_SECRET.",
    );
  }
  return VERIFIED;
}

/** Handles the subscription handshake GET by echoing hub.challenge. */
export function handleMetaHandshake(
  request: InboundRequest,
  context: IngestContext,
): IngestResult {
  const expected = context.env.META_VERIFY_TOKEN;
  if (expected === undefined) {
    logger.error(
      { requestId: request.requestId, provider: "meta" },
      "webhook handshake rejected: META_VERIFY_TOKEN is not set",
    );
    return errorResult(
      503,
      "not_configured",
      "not_configured",
      "The meta endpoint is not configured: set META_VERIFY_TOKEN to the verify token entered in the Meta app dashboard.",
      { provider: "meta", channel: "whatsapp" },
    );
  }
  const query = request.url.searchParams;
  const mode = query.get("hub.mode");
  const token = query.get("hub.verify_token");
  const challenge = query.get("hub.challenge");
  if (mode !== "subscribe" || challenge === null || challenge === "") {
    return errorResult(
      400,
      "invalid",
      "invalid_handshake",
      "hub.mode must be subscribe and hub.challenge must be set; this URL receives Meta's webhook handshake.",
      { provider: "meta", channel: "whatsapp" },
    );
  }
  if (token === null || !safeEqual(token, expected)) {
    return errorResult(
      403,
      "forbidden",
      "forbidden",
      "hub.verify_token does not match META_VERIFY_TOKEN.",
      { provider: "meta", channel: "whatsapp" },
    );
  }
  return {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: challenge,
    provider: "meta",
    records: [{ outcome: "verified", channel: "whatsapp" }],
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns the array at `key`, or [] when it is absent or null. */
function arrayAt(value: Json, key: string, path: string): unknown[] {
  return optionalJsonArray(value[key], `${path}.${key}`);
}

function stringAt(value: Json, key: string, path: string): string {
  return requireJsonString(value[key], `${path}.${key}`);
}

const MEDIA_TYPES = ["image", "video", "audio", "document", "sticker"];

/**
 * Returns the text body of a message of type "text". Raises
 * InvalidFieldError when `text` is not an object or `text.body` is not a
 * string. An empty body is accepted.
 */
function textBodyOf(message: Json, path: string): string {
  const text = requireJsonObject(message.text, `${path}.text`);
  const body = optionalJsonString(text.body, `${path}.text.body`);
  if (body === null) {
    throw new InvalidFieldError(
      `${path}.text.body`,
      `${path}.text.body is missing`,
    );
  }
  return body;
}

/**
 * Builds a readable text for each message type. Media arrive as ids.
 * `path` is the message's location in the batch, for error messages.
 */
function textOf(
  message: Json,
  path: string,
): { text: string; media: MediaItem[] } {
  const type = typeof message.type === "string" ? message.type : "unknown";
  const body = message[type];
  if (type === "text") {
    return { text: textBodyOf(message, path), media: [] };
  }
  if (MEDIA_TYPES.includes(type) && isObject(body)) {
    const item: MediaItem = {};
    if (typeof body.id === "string") item.id = body.id;
    if (typeof body.mime_type === "string") item.contentType = body.mime_type;
    if (typeof body.filename === "string") item.name = body.filename;
    const caption = typeof body.caption === "string" ? body.caption : "";
    return { text: caption, media: [item] };
  }
  if (type === "location" && isObject(body)) {
    const parts = [body.name, body.address].filter(
      (part): part is string => typeof part === "string",
    );
    parts.push(`(${String(body.latitude)}, ${String(body.longitude)})`);
    return { text: parts.join(", "), media: [] };
  }
  if (type === "button" && isObject(body) && typeof body.text === "string") {
    return { text: body.text, media: [] };
  }
  if (type === "interactive" && isObject(body)) {
    const reply = body.button_reply ?? body.list_reply;
    if (isObject(reply) && typeof reply.title === "string") {
      return { text: reply.title, media: [] };
    }
  }
  return { text: `[${type}]`, media: [] };
}

function e164(number: string): string {
  return number.startsWith("+") ? number : `+${number}`;
}

/**
 * Walks entry[] × changes[] × messages[] and statuses[], so a batch for
 * several phone numbers yields every message and status update it carries.
 */
export function metaDelivery(
  json: unknown,
  body: Buffer,
  request: InboundRequest,
): ProviderDelivery {
  if (!isObject(json)) {
    throw new InvalidFieldError(
      "(root)",
      `Body must be a JSON object, got ${jsonTypeOf(json)}`,
    );
  }
  if (json.entry === undefined || json.entry === null) {
    throw new InvalidFieldError("entry", "entry is missing");
  }
  if (!Array.isArray(json.entry)) {
    throw wrongTypeError("entry", "an array", json.entry);
  }
  const delivery: ProviderDelivery = { messages: [], statuses: [] };
  json.entry.forEach((entry: unknown, e) => {
    if (!isObject(entry)) {
      throw wrongTypeError(`entry[${e}]`, "an object", entry);
    }
    arrayAt(entry, "changes", `entry[${e}]`).forEach((change, c) => {
      const changePath = `entry[${e}].changes[${c}]`;
      if (!isObject(change)) {
        throw wrongTypeError(changePath, "an object", change);
      }
      const path = `${changePath}.value`;
      const value = requireJsonObject(change.value, path);
      const metadata = isObject(value.metadata) ? value.metadata : {};
      const businessNumber =
        typeof metadata.display_phone_number === "string"
          ? e164(metadata.display_phone_number)
          : "";
      const contacts = arrayAt(value, "contacts", path).filter(isObject);
      arrayAt(value, "messages", path).forEach((message, m) => {
        const messagePath = `${path}.messages[${m}]`;
        if (!isObject(message)) {
          throw wrongTypeError(messagePath, "an object", message);
        }
        const id = stringAt(message, "id", messagePath);
        const from = stringAt(message, "from", messagePath);
        const contact = contacts.find((item) => item.wa_id === from) ?? null;
        const { text, media } = textOf(message, messagePath);
        delivery.messages.push({
          channel: "whatsapp",
          provider: "meta",
          dedupKey: `meta:${id}`,
          dedupKind: "id",
          externalId: id,
          sender: e164(from),
          recipient: businessNumber,
          subject: null,
          text,
          payload: { message, contact, metadata },
          rawBody: body,
          headers: selectHeaders(request),
          media,
          replayOfId: replayOfId(request),
        } satisfies NormalizedMessage);
      });
      arrayAt(value, "statuses", path).forEach((status, s) => {
        const statusPath = `${path}.statuses[${s}]`;
        if (!isObject(status)) {
          throw wrongTypeError(statusPath, "an object", status);
        }
        const id = stringAt(status, "id", statusPath);
        const errors = Array.isArray(status.errors) ? status.errors : [];
        const firstError = isObject(errors[0]) ? errors[0] : null;
        delivery.statuses.push({
          provider: "meta",
          channel: "whatsapp",
          externalMessageId: id,
          messageDedupKey: `meta:${id}`,
          status: checkedStatus(
            stringAt(status, "status", statusPath),
            `${statusPath}.status`,
          ),
          errorCode:
            firstError?.code === undefined ? null : String(firstError.code),
          payload: { status, metadata },
        } satisfies StatusUpdate);
      });
    });
  });
  return delivery;
}

/** Handles a signed batch of WhatsApp messages and status updates. */
export async function handleMetaEvents(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const secret = context.env.META_APP_SECRET;
  const read = await readProviderBody(
    request,
    context,
    "meta",
    "whatsapp",
    secret,
  );
  if (!Buffer.isBuffer(read)) return read;
  const body = read;
  if (secret !== undefined) {
    const verification = verifyMetaSignature(
      secret,
      body,
      request.header(META_SIGNATURE_HEADER),
    );
    if (!verification.ok) {
      return rejectionResult(verification, "meta", "whatsapp", body, request);
    }
  }
  const unsupported = unsupportedMediaType(
    request,
    ["application/json"],
    "meta",
    "whatsapp",
  );
  if (unsupported) return unsupported;
  let delivery: ProviderDelivery;
  try {
    delivery = metaDelivery(parseJsonBody(body), body, request);
  } catch (error) {
    return invalidFieldResult(error, "meta", "whatsapp", body);
  }
  const entries = await storeDelivery(delivery, context);
  return acknowledgement("meta", entries, context.env);
}

/** Routes GET to the handshake and POST to the event handler. */
export async function handleMeta(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  if (request.method === "GET" || request.method === "HEAD") {
    return handleMetaHandshake(request, context);
  }
  return handleMetaEvents(request, context);
}
