import { readBody } from "../body.server";
import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult, RecordEntry } from "../http";
import type { Channel, MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  checkedStatus,
  checkStorablePayload,
  deliveryStatus,
  field,
  InvalidFieldError,
  invalidFieldResult,
  parseForm,
  rejected,
  rejectionResult,
  replayOfId,
  requireField,
  storeDelivery,
  unconfiguredResult,
  unsupportedMediaType,
  VERIFIED,
  type ProviderDelivery,
  type StatusUpdate,
  type Verification,
} from "./common.server";
import {
  publicUrlOf,
  TWILIO_SIGNATURE_HEADER,
  verifyTwilioSignature,
} from "./twilio-signature.server";

/** The empty TwiML response, so Twilio sends no reply message. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const FORM_TYPE = "application/x-www-form-urlencoded";
const WHATSAPP_PREFIX = "whatsapp:";

/** Strips `whatsapp:` from a Twilio address, leaving the E.164 number. */
export function twilioAddress(value: string): string {
  return value.startsWith(WHATSAPP_PREFIX)
    ? value.slice(WHATSAPP_PREFIX.length)
    : value;
}

/** Reads the fields of a GET query or a form-encoded POST body. */
async function readParams(
  request: InboundRequest,
  context: IngestContext,
): Promise<
  | {
      ok: true;
      params: URLSearchParams;
      signed: [string, string][];
      body: Buffer;
    }
  | { ok: false; result: IngestResult }
> {
  if (request.method === "GET" || request.method === "HEAD") {
    const query = request.target.includes("?")
      ? request.target.slice(request.target.indexOf("?") + 1)
      : "";
    // A GET is signed over the URL alone, query included.
    return {
      ok: true,
      params: new URLSearchParams(query),
      signed: [],
      body: Buffer.from(query),
    };
  }
  const unsupported = unsupportedMediaType(
    request,
    [FORM_TYPE],
    "twilio",
    null,
  );
  if (unsupported) return { ok: false, result: unsupported };
  const body = await readBody(
    request.body,
    context.env.BODY_LIMIT_BYTES,
    request.header("content-length"),
  );
  const params = parseForm(body);
  return { ok: true, params, signed: [...params], body };
}

function verifyTwilioRequest(
  request: InboundRequest,
  context: IngestContext,
  authToken: string,
  read: { signed: [string, string][] },
): Verification {
  const signature = request.header(TWILIO_SIGNATURE_HEADER);
  if (signature === undefined) {
    return rejected("X-Twilio-Signature header is missing");
  }
  const url = publicUrlOf(request, context.env);
  if (verifyTwilioSignature(authToken, url, read.signed, signature)) {
    return VERIFIED;
  }
  return rejected(
    `X-Twilio-Signature does not match the request signed for ${url}. Check TWILIO_AUTH_TOKEN, and that PUBLIC_URL (or TRUST_PROXY behind a proxy) gives the URL configured in Twilio.`,
  );
}

/**
 * Reads, verifies and parses a Twilio request. Returns the parameters, or
 * the rejection to send.
 */
async function verifiedParams(
  request: InboundRequest,
  context: IngestContext,
  channel: Channel | null,
): Promise<
  | { ok: true; params: URLSearchParams; body: Buffer }
  | { ok: false; result: IngestResult }
> {
  const authToken = context.env.TWILIO_AUTH_TOKEN;
  if (authToken === undefined) {
    const unconfigured = unconfiguredResult(
      "twilio",
      channel,
      request,
      context.env,
    );
    if (unconfigured) return { ok: false, result: unconfigured };
  }
  const read = await readParams(request, context);
  if (!read.ok) return read;
  if (authToken !== undefined) {
    const verification = verifyTwilioRequest(request, context, authToken, read);
    if (!verification.ok) {
      return {
        ok: false,
        result: rejectionResult(
          verification,
          "twilio",
          channel,
          read.body,
          request,
        ),
      };
    }
  }
  return { ok: true, params: read.params, body: read.body };
}

function mediaOf(params: URLSearchParams): MediaItem[] {
  const count = Number(params.get("NumMedia") ?? "0");
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidFieldError(
      "NumMedia",
      `NumMedia must be a whole number, got ${JSON.stringify(params.get("NumMedia"))}`,
    );
  }
  const media: MediaItem[] = [];
  for (let i = 0; i < count; i++) {
    const url = requireField(field(params, `MediaUrl${i}`), `MediaUrl${i}`);
    const item: MediaItem = { url };
    const contentType = field(params, `MediaContentType${i}`);
    if (contentType !== undefined) item.contentType = contentType;
    media.push(item);
  }
  return media;
}

/** Maps an inbound Twilio message to the common shape. */
export function twilioMessage(
  params: URLSearchParams,
  channel: Channel,
  body: Buffer,
  request: InboundRequest,
): NormalizedMessage {
  const sid = requireField(field(params, "MessageSid"), "MessageSid");
  const from = requireField(field(params, "From"), "From");
  const to = requireField(field(params, "To"), "To");
  const payload = Object.fromEntries(params);
  checkStorablePayload(payload);
  return {
    channel,
    provider: "twilio",
    dedupKey: `twilio:${sid}`,
    dedupKind: "id",
    externalId: sid,
    sender: twilioAddress(from),
    recipient: twilioAddress(to),
    subject: null,
    text: params.get("Body") ?? "",
    payload,
    rawBody: body,
    headers: selectHeaders(request),
    media: mediaOf(params),
    replayOfId: replayOfId(request),
  };
}

function twimlResult(
  entries: RecordEntry[],
  env: IngestContext["env"],
): IngestResult {
  const status = deliveryStatus(entries, "twilio", env);
  const bodyless = status === 204;
  return {
    status,
    headers: bodyless
      ? {}
      : ({ "content-type": "text/xml; charset=utf-8" } as Record<
          string,
          string
        >),
    body: bodyless ? "" : EMPTY_TWIML,
    provider: "twilio",
    records: entries,
  };
}

/** Handles an inbound SMS, MMS or WhatsApp message from Twilio. */
export function twilioMessageHandler(channel: "sms" | "whatsapp") {
  return async (
    request: InboundRequest,
    context: IngestContext,
  ): Promise<IngestResult> => {
    const verified = await verifiedParams(request, context, channel);
    if (!verified.ok) return verified.result;
    let delivery: ProviderDelivery;
    try {
      delivery = {
        messages: [
          twilioMessage(verified.params, channel, verified.body, request),
        ],
        statuses: [],
      };
    } catch (error) {
      return invalidFieldResult(error, "twilio", channel, verified.body);
    }
    return twimlResult(await storeDelivery(delivery, context), context.env);
  };
}

/** Maps a Twilio delivery status callback to a status update. */
export function twilioStatusUpdate(params: URLSearchParams): StatusUpdate {
  const sid = requireField(field(params, "MessageSid"), "MessageSid");
  const status = checkedStatus(
    requireField(field(params, "MessageStatus"), "MessageStatus"),
    "MessageStatus",
  );
  const payload = Object.fromEntries(params);
  checkStorablePayload(payload);
  const address = params.get("From") ?? params.get("To") ?? "";
  const channel: Channel = address.startsWith(WHATSAPP_PREFIX)
    ? "whatsapp"
    : "sms";
  return {
    provider: "twilio",
    channel,
    externalMessageId: sid,
    messageDedupKey: `twilio:${sid}`,
    status,
    errorCode: params.get("ErrorCode") || null,
    payload,
  };
}

/** Handles a Twilio delivery status callback (MessageStatus). */
export async function handleTwilioStatus(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const verified = await verifiedParams(request, context, null);
  if (!verified.ok) return verified.result;
  let delivery: ProviderDelivery;
  try {
    delivery = {
      messages: [],
      statuses: [twilioStatusUpdate(verified.params)],
    };
  } catch (error) {
    return invalidFieldResult(error, "twilio", null, verified.body);
  }
  return twimlResult(await storeDelivery(delivery, context), context.env);
}
