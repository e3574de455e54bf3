/**
 * Re-sends a stored provider message through its provider endpoint, signed
 * with the configured secret, so it passes the same checks as the original.
 */
import { randomUUID } from "node:crypto";
import { env as loadEnv, type Env } from "~/env.server";
import { mediaType } from "../body.server";
import { parseForm } from "./common.server";
import { setMultipartFields } from "./multipart-edit.server";
import {
  MAILGUN_PATH,
  mailgunSignatureFields,
  newResendWebhookId,
  newTwilioSid,
  signMailgun,
  signMeta,
  signPostmark,
  signResend,
  signTwilio,
  withReplayOf,
  type SignedRequest,
} from "./signing.server";

export interface StoredProviderMessage {
  id: string;
  provider: string;
  channel: string;
  payload: unknown;
  rawBody: Buffer | null;
  headers: Record<string, string>;
}

export type ProviderReplayRequest = SignedRequest;

interface ReplayOptions {
  asNew: boolean;
  /**
   * The origin the replay is sent to. Twilio replays are signed against
   * PUBLIC_URL when it is set, as the endpoint checks them, else this.
   */
  baseUrl: string;
  env?: Env;
  now?: Date;
}

function twilioReplay(
  message: StoredProviderMessage,
  raw: Buffer,
  options: ReplayOptions,
  env: Env,
): SignedRequest {
  let body = raw;
  if (options.asNew) {
    const form = parseForm(raw);
    const sid = newTwilioSid(form.get("MessageSid")?.slice(0, 2) ?? "SM");
    for (const name of ["MessageSid", "SmsSid", "SmsMessageSid"]) {
      if (form.has(name)) form.set(name, sid);
    }
    body = Buffer.from(form.toString());
  }
  return signTwilio(
    `/api/webhooks/twilio/${message.channel}`,
    body,
    env.PUBLIC_URL ?? options.baseUrl,
    env.TWILIO_AUTH_TOKEN,
  );
}

/**
 * Re-sends the raw batch, or as new only this message under a new id in an
 * envelope of its own, because a Meta batch may carry several messages.
 */
function metaReplay(
  message: StoredProviderMessage,
  raw: Buffer,
  options: ReplayOptions,
  env: Env,
): SignedRequest | null {
  if (!options.asNew) return signMeta(raw, env.META_APP_SECRET);
  const payload = message.payload as {
    message?: Record<string, unknown>;
    contact?: unknown;
    metadata?: unknown;
  };
  if (!payload?.message) return null;
  const envelope = {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "replay",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: payload.metadata ?? {},
              contacts: payload.contact ? [payload.contact] : [],
              messages: [
                { ...payload.message, id: `wamid.replay.${randomUUID()}` },
              ],
            },
          },
        ],
      },
    ],
  };
  return signMeta(Buffer.from(JSON.stringify(envelope)), env.META_APP_SECRET);
}

/**
 * Re-sends the Inbound Parse post. As new, the Message-ID in the raw bytes
 * (the `headers` field, or the MIME message in raw mode) is replaced.
 */
function sendgridReplay(
  message: StoredProviderMessage,
  raw: Buffer,
  options: ReplayOptions,
): SignedRequest | null {
  const contentType = message.headers["content-type"];
  if (contentType === undefined) return null;
  let body = raw;
  if (options.asNew) {
    const text = raw.toString("latin1");
    const pattern = /^(message-id:[ \t]*)(<[^>\r\n]*>)/im;
    if (!pattern.test(text)) return null;
    const replaced = text.replace(
      new RegExp(pattern.source, "gim"),
      `$1<replay.${randomUUID()}@inbox.local>`,
    );
    body = Buffer.from(replaced, "latin1");
  }
  // NOTE: a post signed with SendGrid's private key cannot be re-signed here,
  // so a replay passes only when SENDGRID_VERIFICATION_KEY is unset and
  // ALLOW_UNSIGNED_WEBHOOKS=true.
  return {
    path: "/api/webhooks/sendgrid/email",
    method: "POST",
    headers: { "content-type": contentType },
    body,
  };
}

/**
 * Re-signs a Mailgun post at `now`, because Mailgun's signature covers a
 * timestamp and a single-use token. A multipart post (one with attachments)
 * keeps its boundary and every byte but the values of the timestamp, token
 * and signature fields and, as new, of the Message-Id field. A field that the
 * post lacks is added as a new part.
 */
function mailgunReplay(
  message: StoredProviderMessage,
  raw: Buffer,
  options: ReplayOptions,
  env: Env,
  now: Date,
): SignedRequest | null {
  const contentType = message.headers["content-type"];
  const newMessageId = `<replay.${randomUUID()}@inbox.local>`;
  const type = mediaType(contentType);
  if (type === "application/x-www-form-urlencoded") {
    let body = raw;
    if (options.asNew) {
      const form = parseForm(raw);
      form.set("Message-Id", newMessageId);
      body = Buffer.from(form.toString());
    }
    return signMailgun(body, env.MAILGUN_WEBHOOK_SIGNING_KEY, now);
  }
  if (type !== "multipart/form-data" || contentType === undefined) return null;
  const fields: Record<string, string> = {};
  if (options.asNew) fields["Message-Id"] = newMessageId;
  const signingKey = env.MAILGUN_WEBHOOK_SIGNING_KEY;
  if (signingKey !== undefined) {
    Object.assign(fields, mailgunSignatureFields(signingKey, now));
  }
  const body = setMultipartFields(raw, contentType, fields);
  if (body === null) return null;
  return {
    path: MAILGUN_PATH,
    method: "POST",
    headers: { "content-type": contentType },
    body,
  };
}

function postmarkReplay(
  raw: Buffer,
  options: ReplayOptions,
  env: Env,
): SignedRequest | null {
  let body = raw;
  if (options.asNew) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
    } catch {
      return null;
    }
    json.MessageID = randomUUID();
    body = Buffer.from(JSON.stringify(json));
  }
  return signPostmark(body, env.POSTMARK_BASIC_AUTH);
}

function resendReplay(
  message: StoredProviderMessage,
  raw: Buffer,
  options: ReplayOptions,
  env: Env,
  now: Date,
): SignedRequest | null {
  const storedId = message.headers["webhook-id"] ?? message.headers["svix-id"];
  const webhookId = options.asNew ? newResendWebhookId() : storedId;
  if (webhookId === undefined) return null;
  return signResend(raw, webhookId, env.RESEND_WEBHOOK_SECRET, now);
}

/**
 * Builds the signed request that re-sends `message`. Unchanged, the raw body
 * goes out again and the endpoint records a duplicate. With `asNew`, the
 * provider's message id is replaced by a fresh one, so it is stored again.
 * Timestamped schemes (Mailgun, Resend) are signed at `now`. Returns null
 * when the message cannot be replayed.
 */
export async function buildProviderReplay(
  message: StoredProviderMessage,
  options: ReplayOptions,
): Promise<ProviderReplayRequest | null> {
  const raw = message.rawBody;
  if (raw === null) return null;
  const env = options.env ?? loadEnv();
  const now = options.now ?? new Date();
  let request: SignedRequest | null;
  switch (message.provider) {
    case "twilio":
      request = twilioReplay(message, raw, options, env);
      break;
    case "meta":
      request = metaReplay(message, raw, options, env);
      break;
    case "sendgrid":
      request = sendgridReplay(message, raw, options);
      break;
    case "mailgun":
      request = mailgunReplay(message, raw, options, env, now);
      break;
    case "postmark":
      request = postmarkReplay(raw, options, env);
      break;
    case "resend":
      request = resendReplay(message, raw, options, env, now);
      break;
    default:
      request = null;
  }
  return request && withReplayOf(request, message.id);
}
