/**
 * Builds requests in each provider's own format, signed the way the provider
 * signs them, for the test-send page, replays and tests. A provider whose
 * secret is not set gets an unsigned request, which the endpoint rejects
 * with 503 unless ALLOW_UNSIGNED_WEBHOOKS=true.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Env } from "~/env.server";
import { REPLAY_OF_HEADER } from "../request-headers.server";
import { parseForm, type Provider } from "./common.server";
import { mailgunSignature } from "./mailgun.server";
import { META_SIGNATURE_HEADER, metaSignature } from "./meta.server";
import { basicAuthorization } from "./postmark.server";
import { standardWebhookSignature } from "./resend.server";
import {
  TWILIO_SIGNATURE_HEADER,
  twilioSignature,
} from "./twilio-signature.server";

/** A request ready to send to the app's own webhook endpoint. */
export interface SignedRequest {
  /** Path under the app, such as /api/webhooks/twilio/sms. */
  path: string;
  method: "POST";
  headers: Record<string, string>;
  body: Buffer;
}

/** The endpoints the test-send page can post to. */
export const SEND_ROUTES = [
  { provider: "twilio", channel: "sms", label: "Twilio SMS" },
  { provider: "twilio", channel: "whatsapp", label: "Twilio WhatsApp" },
  { provider: "twilio", channel: "status", label: "Twilio status callback" },
  { provider: "meta", channel: "whatsapp", label: "Meta WhatsApp Cloud API" },
  {
    provider: "sendgrid",
    channel: "email",
    label: "SendGrid Inbound Parse (raw)",
  },
  { provider: "mailgun", channel: "email", label: "Mailgun route" },
  { provider: "postmark", channel: "email", label: "Postmark inbound" },
  { provider: "resend", channel: "email", label: "Resend email.received" },
] as const satisfies readonly {
  provider: Provider;
  channel: string;
  label: string;
}[];

export type SendRoute = (typeof SEND_ROUTES)[number];

export function routeKey(route: SendRoute): string {
  return `${route.provider}/${route.channel}`;
}

export function findSendRoute(key: string): SendRoute | undefined {
  return SEND_ROUTES.find((route) => routeKey(route) === key);
}

export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";
export const MAILGUN_PATH = "/api/webhooks/mailgun/email";
export const JSON_CONTENT_TYPE = "application/json";

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Generates a Twilio-style message sid: SM and 32 hex digits. */
export function newTwilioSid(prefix = "SM"): string {
  return prefix + hex(16);
}

/** Signs a form-encoded Twilio body against `signingUrl` (base + path). */
export function signTwilio(
  path: string,
  body: Buffer,
  signingBaseUrl: string,
  authToken: string | undefined,
): SignedRequest {
  const headers: Record<string, string> = {
    "content-type": FORM_CONTENT_TYPE,
  };
  if (authToken !== undefined) {
    const url = signingBaseUrl.replace(/\/+$/, "") + path;
    headers[TWILIO_SIGNATURE_HEADER] = twilioSignature(authToken, url, [
      ...parseForm(body),
    ]);
  }
  return { path, method: "POST", headers, body };
}

export function signMeta(body: Buffer, appSecret: string | undefined) {
  const headers: Record<string, string> = {
    "content-type": JSON_CONTENT_TYPE,
  };
  if (appSecret !== undefined) {
    headers[META_SIGNATURE_HEADER] = metaSignature(appSecret, body);
  }
  return {
    path: "/api/webhooks/meta/whatsapp",
    method: "POST",
    headers,
    body,
  } satisfies SignedRequest;
}

/**
 * Generates Mailgun's timestamp (Unix seconds of `now`), single-use token and
 * signature fields. Mailgun signs these fields and not the body.
 */
export function mailgunSignatureFields(
  signingKey: string,
  now: Date,
): { timestamp: string; token: string; signature: string } {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const token = hex(25);
  const signature = mailgunSignature(signingKey, timestamp, token);
  return { timestamp, token, signature };
}

/** Sets fresh signature fields in a form-encoded Mailgun body. */
export function signMailgun(
  body: Buffer,
  signingKey: string | undefined,
  now: Date,
): SignedRequest {
  const form = parseForm(body);
  if (signingKey !== undefined) {
    const fields = mailgunSignatureFields(signingKey, now);
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
  }
  return {
    path: MAILGUN_PATH,
    method: "POST",
    headers: { "content-type": FORM_CONTENT_TYPE },
    body: Buffer.from(form.toString()),
  };
}

export function signPostmark(
  body: Buffer,
  credentials: string | undefined,
): SignedRequest {
  const headers: Record<string, string> = {
    "content-type": JSON_CONTENT_TYPE,
  };
  if (credentials !== undefined) {
    headers.authorization = basicAuthorization(credentials);
  }
  return {
    path: "/api/webhooks/postmark/email",
    method: "POST",
    headers,
    body,
  };
}

/** Signs a Resend body with Standard Webhooks headers dated `now`. */
export function signResend(
  body: Buffer,
  webhookId: string,
  secret: string | undefined,
  now: Date,
): SignedRequest {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = {
    "content-type": JSON_CONTENT_TYPE,
    "webhook-id": webhookId,
    "webhook-timestamp": timestamp,
  };
  if (secret !== undefined) {
    headers["webhook-signature"] = standardWebhookSignature(
      secret,
      webhookId,
      timestamp,
      body,
    );
  }
  return { path: "/api/webhooks/resend/email", method: "POST", headers, body };
}

export function newResendWebhookId(): string {
  return `msg_${hex(12)}`;
}

const MULTIPART_BOUNDARY_PREFIX = "inbox-test-";

/**
 * Wraps a raw MIME message in an Inbound Parse raw-mode post. SendGrid's
 * signature needs its private key, so the request goes out unsigned.
 */
export function sendgridRawPost(mime: Buffer): SignedRequest {
  const boundary = MULTIPART_BOUNDARY_PREFIX + hex(8);
  const part = (name: string, value: Buffer | string) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`,
      ),
      Buffer.isBuffer(value) ? value : Buffer.from(value),
      Buffer.from("\r\n"),
    ]);
  const body = Buffer.concat([
    part("email", mime),
    part("charsets", '{"email":"UTF-8"}'),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return {
    path: "/api/webhooks/sendgrid/email",
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    body,
  };
}

/** Returns the realistic example body the test-send page starts from. */
export function exampleBody(route: SendRoute): string {
  switch (routeKey(route)) {
    case "twilio/sms":
    case "twilio/whatsapp": {
      const whatsapp = route.channel === "whatsapp";
      const sid = newTwilioSid();
      const form = new URLSearchParams({
        ToCountry: "US",
        SmsMessageSid: sid,
        NumMedia: "0",
        SmsSid: sid,
        SmsStatus: "received",
        Body: whatsapp
          ? "Olá! Is the store open on Sunday? 👋"
          : "Hi there, is my order ready? 📦",
        To: whatsapp ? "whatsapp:+15550000002" : "+15550000002",
        NumSegments: "1",
        MessageSid: sid,
        AccountSid: "AC00000000000000000000000000000000",
        From: whatsapp ? "whatsapp:+15550000001" : "+15550000001",
        ApiVersion: "2010-04-01",
      });
      if (whatsapp) {
        form.set("ProfileName", "Alice Example");
        form.set("WaId", "15550000001");
      }
      return form.toString();
    }
    case "twilio/status":
      return new URLSearchParams({
        MessageSid: newTwilioSid(),
        MessageStatus: "delivered",
        AccountSid: "AC00000000000000000000000000000000",
        From: "+15550000002",
        To: "+15550000001",
        ApiVersion: "2010-04-01",
      }).toString();
    case "meta/whatsapp":
      return JSON.stringify(
        {
          object: "whatsapp_business_account",
          entry: [
            {
              id: "100000000000001",
              changes: [
                {
                  field: "messages",
                  value: {
                    messaging_product: "whatsapp",
                    metadata: {
                      display_phone_number: "15550000002",
                      phone_number_id: "200000000000001",
                    },
                    contacts: [
                      {
                        profile: { name: "Alice Example" },
                        wa_id: "15550000001",
                      },
                    ],
                    messages: [
                      {
                        from: "15550000001",
                        id: `wamid.${randomBytes(24).toString("base64")}`,
                        timestamp: String(Math.floor(Date.now() / 1000)),
                        type: "text",
                        text: { body: "Does it come in another colour? 🎨" },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
        null,
        2,
      );
    case "sendgrid/email":
      return [
        "From: Alice Example <alice@example.com>",
        "To: support@parse.example.test",
        "Subject: Order 123 question",
        `Message-ID: <${hex(12)}@mail.example.com>`,
        `Date: ${new Date().toUTCString()}`,
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
        "",
        "Hello, where is my order? 🤔",
        "",
      ].join("\r\n");
    case "mailgun/email":
      return new URLSearchParams({
        recipient: "support@mg.example.test",
        sender: "alice@example.com",
        from: "Alice Example <alice@example.com>",
        subject: "Re: Ticket #4521",
        "Message-Id": `<${hex(12)}@mail.example.com>`,
        "body-plain": "Thanks, that fixed it! Merci beaucoup.",
        "stripped-text": "Thanks, that fixed it! Merci beaucoup.",
      }).toString();
    case "postmark/email":
      return JSON.stringify(
        {
          FromName: "Alice Example",
          From: "alice@example.com",
          FromFull: { Email: "alice@example.com", Name: "Alice Example" },
          To: "support@inbound.postmarkapp.com",
          ToFull: [{ Email: "support@inbound.postmarkapp.com", Name: "" }],
          Subject: "Question about my account",
          MessageID: randomUUID(),
          Date: new Date().toUTCString(),
          TextBody: "Hi team, I can't log in. ¿Pueden ayudarme? 🔐",
          HtmlBody: "<p>Hi team, I can't log in. ¿Pueden ayudarme? 🔐</p>",
          Headers: [],
          Attachments: [],
        },
        null,
        2,
      );
    default:
      return JSON.stringify(
        {
          type: "email.received",
          created_at: new Date().toISOString(),
          data: {
            email_id: randomUUID(),
            from: "Alice Example <alice@example.com>",
            to: ["support@inbound.example.test"],
            subject: "Need help with invoice № 77",
            attachments: [],
          },
        },
        null,
        2,
      );
  }
}

/**
 * Signs `body` for `route` with the configured secrets. `signingBaseUrl` is
 * the public origin Twilio signatures are computed against.
 */
export function signProviderBody(
  route: SendRoute,
  body: Buffer,
  env: Env,
  options: { signingBaseUrl: string; now: Date; webhookId?: string },
): SignedRequest {
  switch (route.provider) {
    case "twilio":
      return signTwilio(
        `/api/webhooks/twilio/${route.channel}`,
        body,
        options.signingBaseUrl,
        env.TWILIO_AUTH_TOKEN,
      );
    case "meta":
      return signMeta(body, env.META_APP_SECRET);
    case "sendgrid":
      return sendgridRawPost(body);
    case "mailgun":
      return signMailgun(body, env.MAILGUN_WEBHOOK_SIGNING_KEY, options.now);
    case "postmark":
      return signPostmark(body, env.POSTMARK_BASIC_AUTH);
    case "resend":
      return signResend(
        body,
        options.webhookId ?? newResendWebhookId(),
        env.RESEND_WEBHOOK_SECRET,
        options.now,
      );
  }
}

/** Adds the header that links a replayed request to the stored message. */
export function withReplayOf(
  request: SignedRequest,
  messageId: string,
): SignedRequest {
  return {
    ...request,
    headers: { ...request.headers, [REPLAY_OF_HEADER]: messageId },
  };
}
