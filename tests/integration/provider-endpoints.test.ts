import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseEnv } from "../../app/env.server";
import { mailgunSignature } from "../../app/ingest/providers/mailgun.server";
import { metaSignature } from "../../app/ingest/providers/meta.server";
import { buildProviderReplay } from "../../app/ingest/providers/replay.server";
import {
  signPostmark,
  signResend,
  signTwilio,
  type SignedRequest,
} from "../../app/ingest/providers/signing.server";
import { twilioSignature } from "../../app/ingest/providers/twilio-signature.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { sendRaw } from "../support/fixtures";
import {
  runServerToExit,
  startServer,
  waitFor,
  type RunningServer,
} from "../support/server";

const TWILIO_TOKEN = "endpoint_twilio_auth_token_0000";
const META_SECRET = "endpoint_meta_app_secret_000000";
const MAILGUN_KEY = "endpoint-mailgun-signing-key";
const POSTMARK_AUTH = "inbound:endpoint-password";
const RESEND_SECRET = "whsec_ZW5kcG9pbnQtcmVzZW5kLXNlY3JldC0wMDAwMDAwMA==";
const SENDGRID_KEYS = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const SENDGRID_PUBLIC_KEY = SENDGRID_KEYS.publicKey
  .export({ format: "der", type: "spki" })
  .toString("base64");
const ATTACHMENT_MAX_BYTES = 16;

let db: TestDatabase;
let signed: RunningServer;
let bare: RunningServer;
let unsigned: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("provider_endpoints");
  [signed, bare, unsigned] = await Promise.all([
    startServer({
      DATABASE_URL: db.url,
      TRUST_PROXY: "true",
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      META_APP_SECRET: META_SECRET,
      META_VERIFY_TOKEN: "endpoint-verify",
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
      POSTMARK_BASIC_AUTH: POSTMARK_AUTH,
      RESEND_WEBHOOK_SECRET: RESEND_SECRET,
      SENDGRID_VERIFICATION_KEY: SENDGRID_PUBLIC_KEY,
      ATTACHMENT_MAX_BYTES: String(ATTACHMENT_MAX_BYTES),
      DUPLICATE_STATUS_POSTMARK: "202",
      DUPLICATE_STATUS_TWILIO: "204",
    }),
    startServer({ DATABASE_URL: db.url }),
    startServer({ DATABASE_URL: db.url, ALLOW_UNSIGNED_WEBHOOKS: "true" }),
  ]);
});

afterAll(async () => {
  await Promise.all([signed?.stop(), bare?.stop(), unsigned?.stop()]);
  await db?.drop();
});

const env = () =>
  parseEnv({
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    META_APP_SECRET: META_SECRET,
    MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
    POSTMARK_BASIC_AUTH: POSTMARK_AUTH,
    RESEND_WEBHOOK_SECRET: RESEND_SECRET,
    NODE_ENV: "test",
  });

function hostOf(server: RunningServer): string {
  return new URL(server.url).host;
}

function newSid(): string {
  return `SM${randomBytes(16).toString("hex")}`;
}

function twilioForm(sid: string, body = "Hello"): Buffer {
  return Buffer.from(
    new URLSearchParams({
      MessageSid: sid,
      From: "+15550000001",
      To: "+15550000002",
      Body: body,
      NumMedia: "0",
    }).toString(),
  );
}

/** Posts a Twilio form signed for http://<host><path>, as seen directly. */
function postTwilio(server: RunningServer, path: string, body: Buffer) {
  const request = signTwilio(path, body, server.url, TWILIO_TOKEN);
  return sendRaw(server.url, "POST", path, request.headers, request.body);
}

/** Posts a signed Twilio status callback for message `sid`. */
function postTwilioStatus(sid: string, status: string) {
  const body = Buffer.from(
    new URLSearchParams({
      MessageSid: sid,
      MessageStatus: status,
      From: "+15550000002",
      To: "+15550000001",
    }).toString(),
  );
  return postTwilio(signed, "/api/webhooks/twilio/status", body);
}

async function messagesWhere(where: string, values: unknown[] = []) {
  const { rows } = await db.pool.query(
    `SELECT * FROM message WHERE ${where} ORDER BY received_at, id`,
    values,
  );
  return rows;
}

async function recordsFor(requestId: string) {
  return waitFor(async () => {
    const { rows } = await db.pool.query(
      "SELECT * FROM request_record WHERE request_id = $1 ORDER BY id",
      [requestId],
    );
    return rows.length > 0 ? rows : undefined;
  });
}

test("unconfigured provider answers 503", async () => {
  const response = await sendRaw(
    bare.url,
    "POST",
    "/api/webhooks/twilio/sms",
    {
      "content-type": "application/x-www-form-urlencoded",
      "x-request-id": "unconfigured-1",
    },
    twilioForm(newSid()),
  );
  expect(response.status).toBe(503);
  const body = JSON.parse(response.body);
  expect(body.error).toBe("not_configured");
  expect(body.message).toContain("TWILIO_AUTH_TOKEN");
  const [record] = await recordsFor("unconfigured-1");
  expect(record.outcome).toBe("not_configured");
  expect(bare.output.join("\n")).toContain("provider not configured");
});

test("every unconfigured provider answers 503", async () => {
  for (const path of [
    "/api/webhooks/meta/whatsapp",
    "/api/webhooks/sendgrid/email",
    "/api/webhooks/mailgun/email",
    "/api/webhooks/postmark/email",
    "/api/webhooks/resend/email",
  ]) {
    const response = await fetch(bare.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status, path).toBe(503);
  }
});

test("unsigned webhook allowed by setting", async () => {
  const sid = newSid();
  const response = await sendRaw(
    unsigned.url,
    "POST",
    "/api/webhooks/twilio/sms",
    { "content-type": "application/x-www-form-urlencoded" },
    twilioForm(sid, "unsigned"),
  );
  expect(response.status).toBe(200);
  const messages = await messagesWhere("dedup_key = $1", [`twilio:${sid}`]);
  expect(messages).toHaveLength(1);
  expect(unsigned.output.join("\n")).toContain("ALLOW_UNSIGNED_WEBHOOKS=true");
});

test("twilio behind a trusted proxy", async () => {
  const sid = newSid();
  const body = twilioForm(sid, "via proxy");
  const publicUrl = "https://hooks.example.test/api/webhooks/twilio/sms";
  const signature = twilioSignature(TWILIO_TOKEN, publicUrl, [
    ...new URLSearchParams(body.toString()),
  ]);
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    "x-twilio-signature": signature,
    "x-forwarded-proto": "https",
    "x-forwarded-host": "hooks.example.test",
  };
  const accepted = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/twilio/sms",
    headers,
    body,
  );
  expect(accepted.status).toBe(200);
  const messages = await messagesWhere("dedup_key = $1", [`twilio:${sid}`]);
  expect(messages).toHaveLength(1);
});

test("twilio proxy with other host fails", async () => {
  const body = twilioForm(newSid());
  const signature = twilioSignature(
    TWILIO_TOKEN,
    "https://hooks.example.test/api/webhooks/twilio/sms",
    [...new URLSearchParams(body.toString())],
  );
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/twilio/sms",
    {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      "x-forwarded-proto": "http",
      "x-forwarded-host": "internal.example.test",
    },
    body,
  );
  expect(response.status).toBe(401);
  expect(JSON.parse(response.body).message).toContain(
    "http://internal.example.test/api/webhooks/twilio/sms",
  );
});

test("twilio GET keeps the raw query", async () => {
  const sid = newSid();
  // The apostrophe stays unencoded: URL parsing would turn it into %27.
  const target = `/api/webhooks/twilio/sms?MessageSid=${sid}&From=%2B15550000001&To=%2B15550000002&Body=it's+fine+%C3%A9`;
  const signature = twilioSignature(
    TWILIO_TOKEN,
    `http://${hostOf(signed)}${target}`,
    [],
  );
  const response = await sendRaw(
    signed.url,
    "GET",
    target,
    { "x-twilio-signature": signature },
    Buffer.alloc(0),
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [`twilio:${sid}`]);
  expect(message.text_preview).toBe("it's fine é");
  expect(message.sender).toBe("+15550000001");
});

test("twilio new message with duplicate setting", async () => {
  const sid = newSid();
  const first = await postTwilio(
    signed,
    "/api/webhooks/twilio/sms",
    twilioForm(sid),
  );
  expect(first.status).toBe(200);
  expect(first.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  const again = await postTwilio(
    signed,
    "/api/webhooks/twilio/sms",
    twilioForm(sid),
  );
  expect(again.status).toBe(204);
  expect(again.body).toBe("");
});

test("postmark duplicate uses its setting", async () => {
  const json = Buffer.from(
    JSON.stringify({
      MessageID: `dup-${randomBytes(6).toString("hex")}`,
      From: "alice@example.com",
      To: "support@example.com",
      Subject: "Duplicate check",
      TextBody: "Hello",
    }),
  );
  const request = signPostmark(json, POSTMARK_AUTH);
  const first = await sendRaw(
    signed.url,
    "POST",
    request.path,
    request.headers,
    json,
  );
  expect(first.status).toBe(200);
  const again = await sendRaw(
    signed.url,
    "POST",
    request.path,
    request.headers,
    json,
  );
  expect(again.status).toBe(202);
  expect(JSON.parse(again.body).duplicates).toBe(1);
});

test("twilio long status returns 400", async () => {
  const sid = newSid();
  const response = await postTwilioStatus(sid, "x".repeat(3000));
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body).message).toBe(
    "MessageStatus must be at most 64 characters, got 3000",
  );
  const { rows } = await db.pool.query(
    "SELECT * FROM status_event WHERE external_message_id = $1",
    [sid],
  );
  expect(rows).toHaveLength(0);
});

test("invalid duplicate status stops boot", async () => {
  const result = await runServerToExit({
    DATABASE_URL: db.url,
    DUPLICATE_STATUS_TWILIO: "409",
  });
  expect(result.code).not.toBe(0);
  expect(result.output).toContain("DUPLICATE_STATUS_TWILIO");
  expect(result.output).toContain("must be a 2xx status");
});

test("form NUL names its field", async () => {
  const sid = newSid();
  const twilio = await postTwilio(
    signed,
    "/api/webhooks/twilio/sms",
    twilioForm(sid, "a\u0000b"),
  );
  expect(twilio.status).toBe(400);
  const twilioError = JSON.parse(twilio.body);
  expect(twilioError.message).toBe(
    "Body contains a NUL character (\\u0000), which cannot be stored; remove it",
  );
  expect(twilioError.issues).toEqual([
    { path: "Body", message: twilioError.message },
  ]);
  expect(await messagesWhere("dedup_key = $1", [`twilio:${sid}`])).toEqual([]);

  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString("hex");
  const form = new URLSearchParams(
    mailgunBody(`<nul-${token}@example.test>`, timestamp, token).toString(),
  );
  form.set("subject", "bad\u0000subject");
  const mailgun = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/mailgun/email",
    { "content-type": "application/x-www-form-urlencoded" },
    Buffer.from(form.toString()),
  );
  expect(mailgun.status).toBe(400);
  expect(JSON.parse(mailgun.body).issues[0].path).toBe("subject");
  expect(
    await messagesWhere("dedup_key = $1", [
      `mailgun:<nul-${token}@example.test>`,
    ]),
  ).toEqual([]);
});

test("twilio status callback stores status event", async () => {
  const sid = newSid();
  await postTwilio(signed, "/api/webhooks/twilio/sms", twilioForm(sid));
  const response = await postTwilioStatus(sid, "delivered");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [`twilio:${sid}`]);
  const { rows } = await db.pool.query(
    "SELECT * FROM status_event WHERE external_message_id = $1",
    [sid],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].status).toBe("delivered");
  expect(rows[0].message_id).toBe(message.id);
  expect(rows[0].channel).toBe("sms");
});

function mailgunBody(
  messageId: string,
  timestamp: string,
  token: string,
): Buffer {
  return Buffer.from(
    new URLSearchParams({
      recipient: "support@mg.example.test",
      sender: "alice@example.com",
      subject: "Replay check",
      "Message-Id": messageId,
      "body-plain": "Hello",
      timestamp,
      token,
      signature: mailgunSignature(MAILGUN_KEY, timestamp, token),
    }).toString(),
  );
}

test("mailgun token replay is rejected", async () => {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString("hex");
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  const path = "/api/webhooks/mailgun/email";
  const original = mailgunBody("<replay-a@example.test>", timestamp, token);
  const first = await sendRaw(signed.url, "POST", path, headers, original);
  expect(first.status).toBe(200);

  const forged = mailgunBody("<replay-b@example.test>", timestamp, token);
  const replay = await sendRaw(signed.url, "POST", path, headers, forged);
  expect(replay.status).toBe(406);
  expect(JSON.parse(replay.body).message).toContain("replay");
  const forgedRows = await messagesWhere("dedup_key = $1", [
    "mailgun:<replay-b@example.test>",
  ]);
  expect(forgedRows).toHaveLength(0);

  const retry = await sendRaw(signed.url, "POST", path, headers, original);
  expect(retry.status).toBe(200);
  expect(JSON.parse(retry.body).duplicates).toBe(1);
  const stored = await messagesWhere("dedup_key = $1", [
    "mailgun:<replay-a@example.test>",
  ]);
  expect(stored).toHaveLength(1);
});

interface Part {
  name: string;
  value: Buffer | string;
  filename?: string;
  contentType?: string;
}

function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = "xYzZY";
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename) head += `; filename="${part.filename}"`;
    head += "\r\n";
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`));
    chunks.push(
      Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value),
    );
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

function sendgridHeaders(body: Buffer, contentType: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign(
    "sha256",
    Buffer.concat([Buffer.from(timestamp), body]),
    SENDGRID_KEYS.privateKey,
  ).toString("base64");
  return {
    "content-type": contentType,
    "x-twilio-email-event-webhook-signature": signature,
    "x-twilio-email-event-webhook-timestamp": timestamp,
  };
}

test("sendgrid decodes declared charsets", async () => {
  const { body, contentType } = multipart([
    {
      name: "headers",
      value: "Message-ID: <latin1@example.test>\nSubject: x\n",
    },
    { name: "from", value: "José <jose@example.com>" },
    { name: "to", value: "support@parse.example.test" },
    { name: "subject", value: Buffer.from([0x80, 0x20, 0x35, 0x30]) },
    { name: "text", value: Buffer.from("Olá, ação já", "latin1") },
    {
      name: "charsets",
      value: '{"text":"iso-8859-1","subject":"windows-1252","from":"UTF-8"}',
    },
  ]);
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    sendgridHeaders(body, contentType),
    body,
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "sendgrid:<latin1@example.test>",
  ]);
  expect(message.text_preview).toBe("Olá, ação já");
  expect(message.subject).toBe("€ 50");
  expect(message.sender).toBe("jose@example.com");
});

test("sendgrid without signature is 401", async () => {
  const { body, contentType } = multipart([
    { name: "headers", value: "Message-ID: <unsigned@example.test>\n" },
    { name: "from", value: "a@example.com" },
    { name: "to", value: "b@example.com" },
  ]);
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    { "content-type": contentType },
    body,
  );
  expect(response.status).toBe(401);
  const rows = await messagesWhere("dedup_key = $1", [
    "sendgrid:<unsigned@example.test>",
  ]);
  expect(rows).toHaveLength(0);
});

test("attachments over the limit keep metadata", async () => {
  const small = Buffer.from("0123456789");
  const large = Buffer.alloc(ATTACHMENT_MAX_BYTES + 1, 0x41);
  const { body, contentType } = multipart([
    { name: "headers", value: "Message-ID: <attachments@example.test>\n" },
    { name: "from", value: "a@example.com" },
    { name: "to", value: "b@example.com" },
    { name: "text", value: "see attached" },
    { name: "attachments", value: "2" },
    {
      name: "attachment-info",
      value: JSON.stringify({
        attachment1: { filename: "small.txt", type: "text/plain" },
        attachment2: {
          filename: "large.bin",
          type: "application/octet-stream",
        },
      }),
    },
    {
      name: "attachment1",
      value: small,
      filename: "small.txt",
      contentType: "text/plain",
    },
    {
      name: "attachment2",
      value: large,
      filename: "large.bin",
      contentType: "application/octet-stream",
    },
  ]);
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    sendgridHeaders(body, contentType),
    body,
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "sendgrid:<attachments@example.test>",
  ]);
  expect(message.media).toHaveLength(2);
  expect(message.media[0].name).toBe("small.txt");
  expect(message.media[0].size).toBe(10);
  expect(message.media[0].contentBase64).toBe(small.toString("base64"));
  expect(message.media[1].name).toBe("large.bin");
  expect(message.media[1].size).toBe(ATTACHMENT_MAX_BYTES + 1);
  expect(message.media[1].contentBase64).toBeUndefined();
});

test("sendgrid raw mode parses the MIME", async () => {
  const mime = [
    "From: Ana <ana@example.com>",
    "To: support@parse.example.test",
    "Subject: =?UTF-8?B?w4lww6lj?=",
    "Message-ID: <raw-mode@example.test>",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Ol=E1 mundo",
    "",
  ].join("\r\n");
  const { body, contentType } = multipart([
    { name: "email", value: mime },
    { name: "to", value: "support@parse.example.test" },
  ]);
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    sendgridHeaders(body, contentType),
    body,
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "sendgrid:<raw-mode@example.test>",
  ]);
  expect(message.subject).toBe("Épéc");
  expect(message.text_preview.trim()).toBe("Olá mundo");
  expect(message.sender).toBe("ana@example.com");
});

test("malformed bodies answer 400", async () => {
  const missingSid = Buffer.from(
    "From=%2B15550000001&To=%2B15550000002&Body=x",
  );
  const twilio = await postTwilio(
    signed,
    "/api/webhooks/twilio/sms",
    missingSid,
  );
  expect(twilio.status).toBe(400);
  expect(JSON.parse(twilio.body).message).toBe("MessageSid is missing");

  const metaCases: [string, string][] = [
    ["{not json", "Body is not valid UTF-8 JSON"],
    ['{"object":"whatsapp_business_account"}', "entry is missing"],
    [
      '{"entry":[{"changes":[{"value":{"messages":[{"from":"1"}]}}]}]}',
      "entry[0].changes[0].value.messages[0].id is missing",
    ],
  ];
  for (const [json, expected] of metaCases) {
    const body = Buffer.from(json);
    const response = await sendRaw(
      signed.url,
      "POST",
      "/api/webhooks/meta/whatsapp",
      {
        "content-type": "application/json",
        "x-hub-signature-256": metaSignature(META_SECRET, body),
      },
      body,
    );
    expect(response.status, json).toBe(400);
    expect(JSON.parse(response.body).message, json).toContain(expected);
  }

  const resendBody = Buffer.from('{"type":"email.received"}');
  const resend = signResend(
    resendBody,
    "msg_malformed",
    RESEND_SECRET,
    new Date(),
  );
  const resendResponse = await sendRaw(
    signed.url,
    "POST",
    resend.path,
    resend.headers,
    resendBody,
  );
  expect(resendResponse.status).toBe(400);
  expect(JSON.parse(resendResponse.body).message).toBe("data is missing");

  const postmarkBody = Buffer.from('{"From":"a@example.com"}');
  const postmark = signPostmark(postmarkBody, POSTMARK_AUTH);
  const postmarkResponse = await sendRaw(
    signed.url,
    "POST",
    postmark.path,
    postmark.headers,
    postmarkBody,
  );
  expect(postmarkResponse.status).toBe(400);
  expect(JSON.parse(postmarkResponse.body).message).toBe(
    "MessageID is missing",
  );

  const brokenMultipart = Buffer.from("--other\r\nnot a part");
  const sendgrid = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    sendgridHeaders(brokenMultipart, "multipart/form-data"),
    brokenMultipart,
  );
  expect(sendgrid.status).toBe(400);
  expect(JSON.parse(sendgrid.body).message).toContain("multipart/form-data");
});

test("resend old timestamp is rejected", async () => {
  const body = Buffer.from(
    JSON.stringify({
      type: "email.received",
      data: { from: "a@example.com", to: ["b@example.com"] },
    }),
  );
  const request = signResend(
    body,
    "msg_old",
    RESEND_SECRET,
    new Date(Date.now() - 10 * 60 * 1000),
  );
  const response = await sendRaw(
    signed.url,
    "POST",
    request.path,
    request.headers,
    body,
  );
  expect(response.status).toBe(401);
  expect(JSON.parse(response.body).message).toContain("seconds in the past");
});

test("resend contact event is acknowledged, not stored", async () => {
  const body = Buffer.from(
    JSON.stringify({
      type: "contact.created",
      data: { id: "contact_1", email: "new@example.com" },
    }),
  );
  const before = await messagesWhere("provider = $1", ["resend"]);
  const request = signResend(body, "msg_contact_1", RESEND_SECRET, new Date());
  const response = await sendRaw(
    signed.url,
    "POST",
    request.path,
    request.headers,
    body,
  );
  expect(response.status).toBe(200);
  const after = await messagesWhere("provider = $1", ["resend"]);
  expect(after).toHaveLength(before.length);
});

test("replay resends as duplicate or new", async () => {
  const sid = newSid();
  await postTwilio(
    signed,
    "/api/webhooks/twilio/sms",
    twilioForm(sid, "replay me"),
  );
  const [original] = await messagesWhere("dedup_key = $1", [`twilio:${sid}`]);
  const stored = {
    id: original.id,
    provider: original.provider,
    channel: original.channel,
    payload: original.payload,
    rawBody: original.raw_body,
    headers: original.headers,
  };

  const same = await buildProviderReplay(stored, {
    asNew: false,
    baseUrl: signed.url,
    env: env(),
  });
  expect(same).not.toBeNull();
  const duplicate = await sendRaw(
    signed.url,
    "POST",
    same!.path,
    same!.headers,
    same!.body,
  );
  expect(duplicate.status).toBe(204);

  const fresh = await buildProviderReplay(stored, {
    asNew: true,
    baseUrl: signed.url,
    env: env(),
  });
  const created = await sendRaw(
    signed.url,
    "POST",
    fresh!.path,
    fresh!.headers,
    fresh!.body,
  );
  expect(created.status).toBe(200);
  const copies = await messagesWhere("replay_of_id = $1", [original.id]);
  expect(copies).toHaveLength(1);
  expect(copies[0].text_preview).toBe("replay me");
  expect(copies[0].dedup_key).not.toBe(original.dedup_key);
});

test("replay of resend and postmark", async () => {
  const resendBody = Buffer.from(
    JSON.stringify({
      type: "email.received",
      data: {
        email_id: "e-1",
        from: "a@example.com",
        to: ["b@example.com"],
        subject: "R",
      },
    }),
  );
  const resend = signResend(
    resendBody,
    `msg_${randomBytes(6).toString("hex")}`,
    RESEND_SECRET,
    new Date(),
  );
  expect(
    (await sendRaw(signed.url, "POST", resend.path, resend.headers, resendBody))
      .status,
  ).toBe(200);
  const postmarkBody = Buffer.from(
    JSON.stringify({
      MessageID: `pm-${randomBytes(6).toString("hex")}`,
      From: "a@example.com",
      To: "b@example.com",
      TextBody: "P",
    }),
  );
  const postmark = signPostmark(postmarkBody, POSTMARK_AUTH);
  expect(
    (
      await sendRaw(
        signed.url,
        "POST",
        postmark.path,
        postmark.headers,
        postmarkBody,
      )
    ).status,
  ).toBe(200);

  for (const provider of ["resend", "postmark"]) {
    const [original] = await messagesWhere(
      "provider = $1 AND replay_of_id IS NULL ORDER BY received_at DESC LIMIT 1 --",
      [provider],
    );
    const replay = await buildProviderReplay(
      {
        id: original.id,
        provider,
        channel: "email",
        payload: original.payload,
        rawBody: original.raw_body,
        headers: original.headers,
      },
      { asNew: true, baseUrl: signed.url, env: env() },
    );
    const response = await sendRaw(
      signed.url,
      "POST",
      replay!.path,
      replay!.headers,
      replay!.body,
    );
    expect(response.status, provider).toBe(200);
    const copies = await messagesWhere("replay_of_id = $1", [original.id]);
    expect(copies, provider).toHaveLength(1);
  }
});

/** Returns the timestamp, fresh token and signature parts of a Mailgun post. */
function mailgunSignatureParts(): Part[] {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString("hex");
  return [
    { name: "timestamp", value: timestamp },
    { name: "token", value: token },
    {
      name: "signature",
      value: mailgunSignature(MAILGUN_KEY, timestamp, token),
    },
  ];
}

test("mailgun multipart keeps attachments", async () => {
  const { body, contentType } = multipart([
    { name: "recipient", value: "support@mg.example.test" },
    { name: "sender", value: "alice@example.com" },
    { name: "subject", value: "Facture n° 12" },
    { name: "Message-Id", value: "<multipart@example.test>" },
    { name: "body-plain", value: "Voilà la facture 🧾" },
    { name: "attachment-count", value: "1" },
    ...mailgunSignatureParts(),
    {
      name: "attachment-1",
      value: Buffer.from("%PDF-1.4"),
      filename: "facture.pdf",
      contentType: "application/pdf",
    },
  ]);
  const response = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/mailgun/email",
    { "content-type": contentType },
    body,
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "mailgun:<multipart@example.test>",
  ]);
  expect(message.subject).toBe("Facture n° 12");
  expect(message.text_preview).toBe("Voilà la facture 🧾");
  expect(message.media).toHaveLength(1);
  expect(message.media[0].name).toBe("facture.pdf");
  expect(message.media[0].contentType).toBe("application/pdf");
  expect(message.media[0].contentBase64).toBe(
    Buffer.from("%PDF-1.4").toString("base64"),
  );
});

test("mailgun multipart replays with attachment", async () => {
  const token = randomBytes(8).toString("hex");
  const messageId = `<multipart-replay-${token}@example.test>`;
  const text = "Ci-joint 🧾\nligne 2\r\nligne 3\rfin";
  const attachment = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]);
  const { body, contentType } = multipart([
    { name: "recipient", value: "support@mg.example.test" },
    { name: "sender", value: "alice@example.com" },
    { name: "subject", value: "Reçu n° 7" },
    { name: "Message-Id", value: messageId },
    { name: "body-plain", value: text },
    { name: "attachment-count", value: "1" },
    ...mailgunSignatureParts(),
    {
      name: "attachment-1",
      value: attachment,
      // The quote is escaped as a quoted-pair in the part header.
      filename: 'reçu \\"7\\"; copie.pdf',
      contentType: "application/pdf",
    },
  ]);
  const first = await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/mailgun/email",
    { "content-type": contentType },
    body,
  );
  expect(first.status).toBe(200);
  const [original] = await messagesWhere("dedup_key = $1", [
    `mailgun:${messageId}`,
  ]);
  expect(original.text_preview).toBe(text);
  expect(original.media[0].name).toBe('reçu "7"; copie.pdf');
  const replay = (asNew: boolean) =>
    buildProviderReplay(
      {
        id: original.id,
        provider: "mailgun",
        channel: "email",
        payload: original.payload,
        rawBody: original.raw_body,
        headers: original.headers,
      },
      { asNew, baseUrl: signed.url, env: env() },
    );
  const send = (request: SignedRequest, requestId: string) =>
    sendRaw(
      signed.url,
      request.method,
      request.path,
      { ...request.headers, "x-request-id": requestId },
      request.body,
    );

  const same = await replay(false);
  expect(same).not.toBeNull();
  expect(same!.headers["content-type"]).toBe(contentType);
  expect(same!.body.length).toBe(body.length);
  const again = await send(same!, `replay-same-${token}`);
  expect(again.status).toBe(200);
  const [record] = await recordsFor(`replay-same-${token}`);
  expect(record.outcome).toBe("duplicate");
  expect(record.duplicate_of_id).toBe(original.id);

  const fresh = await replay(true);
  expect(fresh).not.toBeNull();
  expect(fresh!.headers["content-type"]).toBe(contentType);
  const created = await send(fresh!, `replay-new-${token}`);
  expect(created.status).toBe(200);
  const copies = await messagesWhere("replay_of_id = $1", [original.id]);
  expect(copies).toHaveLength(1);
  const [copy] = copies;
  expect(copy.dedup_key).not.toBe(original.dedup_key);
  expect(copy.external_id).toMatch(/^<replay\.[0-9a-f-]{36}@inbox\.local>$/);
  expect(copy.subject).toBe("Reçu n° 7");
  expect(copy.text_preview).toBe(text);
  expect(copy.payload["body-plain"]).toBe(text);
  expect(copy.media).toEqual(original.media);
  expect(copy.media[0].name).toBe('reçu "7"; copie.pdf');
  expect(copy.media[0].contentBase64).toBe(attachment.toString("base64"));
});

test("mailgun unsigned multipart replays signed", async () => {
  const messageId = `<unsigned-${randomBytes(8).toString("hex")}@example.test>`;
  const text = "line 1\nline 2\r\nline 3";
  const { body, contentType } = multipart([
    { name: "recipient", value: "support@mg.example.test" },
    { name: "sender", value: "alice@example.com" },
    { name: "Message-Id", value: messageId },
    { name: "body-plain", value: text },
    {
      name: "attachment-1",
      value: "notes",
      filename: "notes.txt",
      contentType: "text/plain",
    },
  ]);
  const first = await sendRaw(
    unsigned.url,
    "POST",
    "/api/webhooks/mailgun/email",
    { "content-type": contentType },
    body,
  );
  expect(first.status).toBe(200);
  const [original] = await messagesWhere("dedup_key = $1", [
    `mailgun:${messageId}`,
  ]);

  const request = await buildProviderReplay(
    {
      id: original.id,
      provider: "mailgun",
      channel: "email",
      payload: original.payload,
      rawBody: original.raw_body,
      headers: original.headers,
    },
    { asNew: true, baseUrl: signed.url, env: env() },
  );
  expect(request).not.toBeNull();
  expect(request!.headers["content-type"]).toBe(contentType);
  const response = await sendRaw(
    signed.url,
    request!.method,
    request!.path,
    request!.headers,
    request!.body,
  );
  expect(response.status).toBe(200);

  const copies = await messagesWhere("replay_of_id = $1", [original.id]);
  expect(copies).toHaveLength(1);
  const [copy] = copies;
  expect(copy.text_preview).toBe(text);
  expect(copy.media[0].name).toBe("notes.txt");
});

test("meta handshake without token is 503", async () => {
  const response = await fetch(
    `${bare.url}/api/webhooks/meta/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x`,
  );
  expect(response.status).toBe(503);
  expect((await response.json()).message).toContain("META_VERIFY_TOKEN");
});

test("meta status links the stored message", async () => {
  const id = `wamid.status-${randomBytes(6).toString("hex")}`;
  const envelope = (value: Record<string, unknown>) =>
    Buffer.from(
      JSON.stringify({
        object: "whatsapp_business_account",
        entry: [{ id: "1", changes: [{ field: "messages", value }] }],
      }),
    );
  const metadata = { display_phone_number: "15550000002" };
  const inbound = envelope({
    metadata,
    messages: [{ from: "15550000001", id, type: "text", text: { body: "hi" } }],
  });
  const status = envelope({
    metadata,
    statuses: [{ id, status: "read", recipient_id: "15550000001" }],
  });
  for (const body of [inbound, status, status]) {
    const response = await sendRaw(
      signed.url,
      "POST",
      "/api/webhooks/meta/whatsapp",
      {
        "content-type": "application/json",
        "x-hub-signature-256": metaSignature(META_SECRET, body),
      },
      body,
    );
    expect(response.status).toBe(200);
  }
  const [message] = await messagesWhere("dedup_key = $1", [`meta:${id}`]);
  const { rows } = await db.pool.query(
    "SELECT * FROM status_event WHERE external_message_id = $1",
    [id],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].status).toBe("read");
  expect(rows[0].message_id).toBe(message.id);
});

/** Replays the latest stored message of `provider` as new and sends it. */
async function replayLatestAsNew(server: RunningServer, provider: string) {
  const [original] = await messagesWhere(
    "provider = $1 AND replay_of_id IS NULL ORDER BY received_at DESC LIMIT 1 --",
    [provider],
  );
  const replay = await buildProviderReplay(
    {
      id: original.id,
      provider,
      channel: original.channel,
      payload: original.payload,
      rawBody: original.raw_body,
      headers: original.headers,
    },
    { asNew: true, baseUrl: server.url, env: env() },
  );
  expect(replay, provider).not.toBeNull();
  const response = await sendRaw(
    server.url,
    "POST",
    replay!.path,
    replay!.headers,
    replay!.body,
  );
  const copies = await messagesWhere("replay_of_id = $1", [original.id]);
  return { original, response, copies };
}

test("replay of meta and mailgun", async () => {
  const id = `wamid.replay-${randomBytes(6).toString("hex")}`;
  const metaBody = Buffer.from(
    JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "1",
          changes: [
            {
              field: "messages",
              value: {
                metadata: { display_phone_number: "15550000002" },
                messages: [
                  {
                    from: "15550000001",
                    id,
                    type: "text",
                    text: { body: "m" },
                  },
                ],
              },
            },
          ],
        },
      ],
    }),
  );
  await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/meta/whatsapp",
    {
      "content-type": "application/json",
      "x-hub-signature-256": metaSignature(META_SECRET, metaBody),
    },
    metaBody,
  );
  const meta = await replayLatestAsNew(signed, "meta");
  expect(meta.response.status).toBe(200);
  expect(meta.copies).toHaveLength(1);
  expect(meta.copies[0].text_preview).toBe("m");

  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString("hex");
  await sendRaw(
    signed.url,
    "POST",
    "/api/webhooks/mailgun/email",
    { "content-type": "application/x-www-form-urlencoded" },
    mailgunBody(`<replay-${token}@example.test>`, timestamp, token),
  );
  const mailgun = await replayLatestAsNew(signed, "mailgun");
  expect(mailgun.response.status).toBe(200);
  expect(mailgun.copies).toHaveLength(1);
  expect(mailgun.copies[0].subject).toBe("Replay check");
});

test("replay of unsigned sendgrid", async () => {
  const { body, contentType } = multipart([
    { name: "headers", value: "Message-ID: <sendgrid-replay@example.test>\n" },
    { name: "from", value: "a@example.com" },
    { name: "to", value: "b@example.com" },
    { name: "text", value: "replayed mail" },
  ]);
  const first = await sendRaw(
    unsigned.url,
    "POST",
    "/api/webhooks/sendgrid/email",
    { "content-type": contentType },
    body,
  );
  expect(first.status).toBe(200);
  const sendgrid = await replayLatestAsNew(unsigned, "sendgrid");
  expect(sendgrid.response.status).toBe(200);
  expect(sendgrid.copies).toHaveLength(1);
  expect(sendgrid.copies[0].text_preview).toBe("replayed mail");
  expect(sendgrid.copies[0].dedup_key).not.toBe(sendgrid.original.dedup_key);
});
