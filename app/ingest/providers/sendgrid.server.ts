/**
 * SendGrid Inbound Parse. Posts are multipart/form-data and unsigned unless
 * the Parse setting has a security policy. With a policy, SendGrid signs
 * timestamp + body with ECDSA (P-256, SHA-256). The base64 DER signature and
 * the timestamp arrive in X-Twilio-Email-Event-Webhook-Signature and
 * -Timestamp, and are checked against SENDGRID_VERIFICATION_KEY.
 *
 * Default mode sends the parsed fields with a `charsets` JSON naming each
 * field's charset; raw mode sends the whole MIME message in `email`.
 * SendGrid has no message id of its own, so the Message-ID header is the
 * dedup key.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import PostalMime, { type Address, type Email } from "postal-mime";
import { readBody } from "../body.server";
import { contentHash } from "../canonical-json";
import type { IngestContext } from "../context.server";
import { logger } from "~/logger.server";
import { errorResult, type InboundRequest, type IngestResult } from "../http";
import type { MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  acknowledgement,
  emailAddressOf,
  InvalidFieldError,
  checkStorablePayload,
  invalidFieldResult,
  rejected,
  rejectionResult,
  replayOfId,
  storeDelivery,
  unconfiguredResult,
  unsupportedMediaType,
  VERIFIED,
  type Verification,
} from "./common.server";
import {
  fieldText,
  parseMultipart,
  type MultipartBody,
} from "./multipart.server";

export const SENDGRID_SIGNATURE_HEADER =
  "x-twilio-email-event-webhook-signature";
export const SENDGRID_TIMESTAMP_HEADER =
  "x-twilio-email-event-webhook-timestamp";

/** Reads SENDGRID_VERIFICATION_KEY: base64 DER (SPKI) or a PEM block. */
export function sendgridPublicKey(value: string): KeyObject {
  if (value.includes("-----BEGIN")) return createPublicKey(value);
  return createPublicKey({
    key: Buffer.from(value, "base64"),
    format: "der",
    type: "spki",
  });
}

/**
 * Verifies SendGrid's ECDSA signature over timestamp + body.
 *
 * NOTE: no timestamp window is applied, because SendGrid documents none for
 * Inbound Parse and retries for up to 72 hours. The Message-ID dedup turns a
 * replayed post into a duplicate instead.
 */
export function verifySendgridSignature(
  publicKey: KeyObject,
  body: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
): Verification {
  if (signature === undefined) {
    return rejected("X-Twilio-Email-Event-Webhook-Signature header is missing");
  }
  if (timestamp === undefined) {
    return rejected("X-Twilio-Email-Event-Webhook-Timestamp header is missing");
  }
  const signed = Buffer.concat([Buffer.from(timestamp), body]);
  let valid = false;
  try {
    valid = verify(
      "sha256",
      signed,
      { key: publicKey, dsaEncoding: "der" },
      Buffer.from(signature, "base64"),
    );
  } catch {
    valid = false;
  }
  return valid
    ? VERIFIED
    : rejected(
        "X-Twilio-Email-Event-Webhook-Signature does not match the body. Check SENDGRID_VERIFICATION_KEY.",
      );
}

/**
 * Characters of windows-1252 bytes 0x80 to 0x9f. WHATWG maps the labels
 * latin1, iso-8859-1 and us-ascii to windows-1252 too.
 */
const WINDOWS_1252_HIGH =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/**
 * Decodes `bytes` with a charset label, falling back to UTF-8 for an unknown
 * label. Node 20's TextDecoder decodes windows-1252 as ISO-8859-1, which
 * turns bytes 0x80 to 0x9f (such as the euro sign) into control characters,
 * so that range is mapped here.
 */
export function decodeCharset(
  bytes: Buffer,
  label: string | undefined,
): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label ?? "utf-8");
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  if (decoder.encoding !== "windows-1252") return decoder.decode(bytes);
  let text = "";
  for (const byte of bytes) {
    text +=
      byte >= 0x80 && byte <= 0x9f
        ? WINDOWS_1252_HIGH[byte - 0x80]
        : String.fromCharCode(byte);
  }
  return text;
}

function charsetsOf(body: MultipartBody): Record<string, string> {
  const raw = fieldText(body, "charsets");
  if (raw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null) throw new TypeError();
    return parsed as Record<string, string>;
  } catch {
    throw new InvalidFieldError(
      "charsets",
      'charsets must be a JSON object such as {"text":"UTF-8"}',
    );
  }
}

/** Decodes every text field with the charset SendGrid declares for it. */
function decodedFields(body: MultipartBody): Record<string, string> {
  const charsets = charsetsOf(body);
  const fields: Record<string, string> = {};
  for (const item of body.fields) {
    if (item.name === "email") continue;
    fields[item.name] = decodeCharset(item.value, charsets[item.name]);
  }
  return fields;
}

/** Takes the Message-ID out of the raw header block of the `headers` field. */
export function messageIdFromHeaders(headers: string): string | null {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, " ");
  const match = /^message-id:\s*(.+?)\s*$/im.exec(unfolded);
  return match ? match[1] : null;
}

function envelopeOf(fields: Record<string, string>): {
  from?: string;
  to?: string[];
} {
  if (fields.envelope === undefined) return {};
  try {
    const parsed = JSON.parse(fields.envelope) as {
      from?: unknown;
      to?: unknown;
    };
    return {
      from: typeof parsed.from === "string" ? parsed.from : undefined,
      to: Array.isArray(parsed.to)
        ? parsed.to.filter((to): to is string => typeof to === "string")
        : undefined,
    };
  } catch {
    throw new InvalidFieldError(
      "envelope",
      'envelope must be JSON such as {"to":["a@example.com"],"from":"b@example.com"}',
    );
  }
}

function attachmentInfo(
  fields: Record<string, string>,
): Record<string, { filename?: string; type?: string; name?: string }> {
  if (fields["attachment-info"] === undefined) return {};
  try {
    return JSON.parse(fields["attachment-info"]) as Record<
      string,
      { filename?: string; type?: string }
    >;
  } catch {
    throw new InvalidFieldError(
      "attachment-info",
      "attachment-info must be a JSON object",
    );
  }
}

interface ParsedEmail {
  messageId: string | null;
  sender: string;
  recipient: string;
  subject: string | null;
  text: string;
  media: MediaItem[];
}

function defaultModeEmail(
  body: MultipartBody,
  fields: Record<string, string>,
): ParsedEmail {
  const envelope = envelopeOf(fields);
  const info = attachmentInfo(fields);
  const sender = envelope.from ?? fields.from;
  if (!sender) throw new InvalidFieldError("from", "from is missing");
  const recipient = envelope.to?.join(", ") ?? fields.to;
  if (!recipient) throw new InvalidFieldError("to", "to is missing");
  return {
    messageId: messageIdFromHeaders(fields.headers ?? ""),
    sender: emailAddressOf(sender),
    recipient,
    subject: fields.subject ?? null,
    text: fields.text ?? "",
    media: body.files.map((file) => {
      const described = info[file.field] ?? {};
      const item: MediaItem = {
        name: described.filename ?? described.name ?? file.filename,
        contentType: described.type ?? file.contentType,
        size: file.size,
      };
      if (file.data) item.contentBase64 = file.data.toString("base64");
      return item;
    }),
  };
}

function mailboxes(list: Address[] | Address | undefined): string[] {
  const items = list === undefined ? [] : Array.isArray(list) ? list : [list];
  return items.flatMap((item) =>
    item.group ? item.group.map((member) => member.address) : [item.address],
  );
}

async function rawModeEmail(
  raw: Buffer,
  fields: Record<string, string>,
  attachmentMaxBytes: number,
): Promise<ParsedEmail> {
  let email: Email;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidFieldError(
      "email",
      `email is not a valid MIME message: ${reason}`,
    );
  }
  const envelope = envelopeOf(fields);
  const sender = envelope.from ?? mailboxes(email.from)[0] ?? fields.from;
  if (!sender) throw new InvalidFieldError("email", "email has no From header");
  return {
    messageId: email.messageId ?? null,
    sender: emailAddressOf(sender),
    recipient: envelope.to?.join(", ") ?? mailboxes(email.to).join(", "),
    subject: email.subject ?? null,
    text: email.text ?? "",
    media: email.attachments.map((attachment) => {
      const content =
        typeof attachment.content === "string"
          ? Buffer.from(attachment.content)
          : Buffer.from(attachment.content as ArrayBuffer);
      const item: MediaItem = {
        contentType: attachment.mimeType,
        size: content.length,
      };
      if (attachment.filename) item.name = attachment.filename;
      if (content.length <= attachmentMaxBytes)
        item.contentBase64 = content.toString("base64");
      return item;
    }),
  };
}

/** Maps an Inbound Parse post, default or raw mode, to the common shape. */
export async function sendgridMessage(
  multipart: MultipartBody,
  body: Buffer,
  request: InboundRequest,
  attachmentMaxBytes: number,
): Promise<NormalizedMessage> {
  const fields = decodedFields(multipart);
  checkStorablePayload(fields);
  const raw = multipart.fields.find((item) => item.name === "email")?.value;
  const email =
    raw === undefined
      ? defaultModeEmail(multipart, fields)
      : await rawModeEmail(raw, fields, attachmentMaxBytes);
  const dedupKey =
    email.messageId === null
      ? `sendgrid:sha256:${contentHash(fields)}`
      : `sendgrid:${email.messageId}`;
  return {
    channel: "email",
    provider: "sendgrid",
    dedupKey,
    dedupKind: email.messageId === null ? "hash" : "id",
    externalId: email.messageId,
    sender: email.sender,
    recipient: email.recipient,
    subject: email.subject,
    text: email.text,
    payload: fields,
    rawBody: body,
    headers: selectHeaders(request),
    media: email.media,
    replayOfId: replayOfId(request),
  };
}

/** Handles POST /api/webhooks/sendgrid/email. */
export async function handleSendgrid(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const key = context.env.SENDGRID_VERIFICATION_KEY;
  if (key === undefined) {
    const unconfigured = unconfiguredResult(
      "sendgrid",
      "email",
      request,
      context.env,
    );
    if (unconfigured) return unconfigured;
  }
  const unsupported = unsupportedMediaType(
    request,
    ["multipart/form-data"],
    "sendgrid",
    "email",
  );
  if (unsupported) return unsupported;
  const body = await readBody(
    request.body,
    context.env.BODY_LIMIT_BYTES,
    request.header("content-length"),
  );
  if (key !== undefined) {
    let publicKey: KeyObject;
    try {
      publicKey = sendgridPublicKey(key);
    } catch (error) {
      logger.error({ err: error }, "SENDGRID_VERIFICATION_KEY is invalid");
      return errorResult(
        503,
        "not_configured",
        "not_configured",
        "SENDGRID_VERIFICATION_KEY is not a valid public key; set it to the base64 verification key shown in the SendGrid Parse settings.",
        { provider: "sendgrid", channel: "email" },
      );
    }
    const verification = verifySendgridSignature(
      publicKey,
      body,
      request.header(SENDGRID_SIGNATURE_HEADER),
      request.header(SENDGRID_TIMESTAMP_HEADER),
    );
    if (!verification.ok) {
      return rejectionResult(verification, "sendgrid", "email", body, request);
    }
  }
  let message: NormalizedMessage;
  try {
    const multipart = await parseMultipart(
      body,
      request.header("content-type") ?? "",
      context.env.ATTACHMENT_MAX_BYTES,
    );
    message = await sendgridMessage(
      multipart,
      body,
      request,
      context.env.ATTACHMENT_MAX_BYTES,
    );
  } catch (error) {
    return invalidFieldResult(error, "sendgrid", "email", body);
  }
  const entries = await storeDelivery(
    { messages: [message], statuses: [] },
    context,
  );
  return acknowledgement("sendgrid", entries, context.env);
}
