import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import {
  fixtureSecrets,
  loadFixture,
  sendFixture,
  type RawResponse,
} from "../support/fixtures";
import { startServer, waitFor, type RunningServer } from "../support/server";

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("provider_fixtures");
  server = await startServer({
    DATABASE_URL: db.url,
    ...fixtureSecrets(),
    PUBLIC_URL: "https://hooks.example.test",
    NODE_ENV: "test",
    // The fixtures were signed at 2026-01-01T12:00:00Z.
    TEST_CLOCK_ISO: "2026-01-01T12:00:00Z",
    // SendGrid Inbound Parse is unsigned without a security policy.
    ALLOW_UNSIGNED_WEBHOOKS: "true",
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

let requestCounter = 0;

/** Sends a fixture with a fresh X-Request-Id and returns both. */
async function send(
  name: string,
): Promise<{ response: RawResponse; requestId: string }> {
  const requestId = `fixture-${++requestCounter}-${name}`.slice(0, 100);
  const response = await sendFixture(server.url, loadFixture(name), {
    "x-request-id": requestId,
  });
  return { response, requestId };
}

async function recordsFor(requestId: string, count = 1) {
  return waitFor(async () => {
    const { rows } = await db.pool.query(
      "SELECT * FROM request_record WHERE request_id = $1 ORDER BY id",
      [requestId],
    );
    return rows.length >= count ? rows : undefined;
  });
}

async function messagesWhere(where: string, values: unknown[] = []) {
  const { rows } = await db.pool.query(
    `SELECT * FROM message WHERE ${where} ORDER BY received_at, id`,
    values,
  );
  return rows;
}

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

test("twilio sms fixture is stored", async () => {
  const { response, requestId } = await send("twilio_sms_inbound_basic");
  expect(response.status).toBe(200);
  expect(response.headers["content-type"]).toBe("text/xml; charset=utf-8");
  expect(response.body).toBe(TWIML);
  const [message] = await messagesWhere("dedup_key = $1", [
    "twilio:SM00000000000000000000000000000001",
  ]);
  expect(message.channel).toBe("sms");
  expect(message.provider).toBe("twilio");
  expect(message.sender).toBe("+15550000001");
  expect(message.recipient).toBe("+15550000002");
  expect(message.text_preview).toBe("Hi there, is my order ready?");
  expect(message.external_id).toBe("SM00000000000000000000000000000001");
  expect(message.raw_body.length).toBe(481);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("accepted");
  expect(record.message_id).toBe(message.id);
});

test("twilio retry is a duplicate", async () => {
  const { response, requestId } = await send(
    "twilio_sms_inbound_duplicate_retry",
  );
  expect(response.status).toBe(200);
  expect(response.body).toBe(TWIML);
  const messages = await messagesWhere("dedup_key = $1", [
    "twilio:SM00000000000000000000000000000001",
  ]);
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("duplicate");
  expect(record.duplicate_of_id).toBe(messages[0].id);
});

test("twilio bad signature stores nothing", async () => {
  const before = await messagesWhere("provider = 'twilio'");
  const { response, requestId } = await send("twilio_sms_bad_signature");
  expect(response.status).toBe(401);
  expect(JSON.parse(response.body).error).toBe("unauthorized");
  const after = await messagesWhere("provider = 'twilio'");
  expect(after).toHaveLength(before.length);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("unauthorized");
  expect(record.error_message).toContain("X-Twilio-Signature does not match");
});

test("twilio mms keeps emoji and media", async () => {
  const { response } = await send("twilio_mms_inbound_two_media_emoji");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "twilio:MM00000000000000000000000000000003",
  ]);
  expect(message.text_preview).toBe("Here are the photos 📸😀 café");
  expect(message.media).toHaveLength(2);
  expect(message.media[0].contentType).toBe("image/jpeg");
  expect(message.media[1].contentType).toBe("video/mp4");
  expect(message.media[1].url).toBe(
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM00000000000000000000000000000003/Media/ME0000000000000000000000000000000b",
  );
});

test("twilio whatsapp strips the prefix", async () => {
  const { response } = await send("twilio_whatsapp_inbound_text");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("dedup_key = $1", [
    "twilio:SM00000000000000000000000000000008",
  ]);
  expect(message.channel).toBe("whatsapp");
  expect(message.sender).toBe("+15550000001");
  expect(message.recipient).toBe("+15550000002");
  expect(message.text_preview).toBe("Olá! 👋");
  expect(message.payload.ProfileName).toBe("Alice Example");
});

test("meta handshake echoes the challenge", async () => {
  const { response, requestId } = await send("meta_whatsapp_verify_GET_ok");
  expect(response.status).toBe(200);
  expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
  expect(response.body).toBe("1158201444");
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("verified");
});

test("meta handshake with wrong token is 403", async () => {
  const { response, requestId } = await send(
    "meta_whatsapp_verify_GET_wrong_token",
  );
  expect(response.status).toBe(403);
  expect(response.body).not.toContain("987654321");
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("forbidden");
});

test("meta text message is stored", async () => {
  const { response, requestId } = await send("meta_whatsapp_inbound_text");
  expect(response.status).toBe(200);
  const messages = await messagesWhere("provider = 'meta'");
  expect(messages).toHaveLength(1);
  expect(messages[0].dedup_key).toBe(
    "meta:wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAw01AA==",
  );
  expect(messages[0].sender).toBe("+15550000001");
  expect(messages[0].recipient).toBe("+15550000002");
  expect(messages[0].text_preview).toBe("Does it come in another color?");
  expect(messages[0].payload.contact.profile.name).toBe("Alice Example");
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("accepted");
});

test("meta redelivery is a duplicate", async () => {
  const { response, requestId } = await send(
    "meta_whatsapp_inbound_text_redelivered_duplicate",
  );
  expect(response.status).toBe(200);
  const messages = await messagesWhere("provider = 'meta'");
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("duplicate");
  expect(record.duplicate_of_id).toBe(messages[0].id);
});

test("meta bad signature stores nothing", async () => {
  const { response, requestId } = await send("meta_whatsapp_bad_signature");
  expect(response.status).toBe(401);
  const messages = await messagesWhere("provider = 'meta'");
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("unauthorized");
  expect(record.error_message).toContain("X-Hub-Signature-256");
});

test("meta batch stores every message", async () => {
  const { response, requestId } = await send(
    "meta_whatsapp_batched_multi_entry_multi_message",
  );
  expect(response.status).toBe(200);
  const body = JSON.parse(response.body);
  expect(body.accepted).toBe(4);
  expect(body.statusEvents).toBe(1);
  const messages = await messagesWhere(
    "provider = 'meta' AND dedup_key <> $1",
    ["meta:wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAw01AA=="],
  );
  expect(messages).toHaveLength(4);
  const texts = messages.map((message) => message.text_preview).sort();
  expect(texts).toEqual([
    "Example Place, 1 Example Street, (37, -122)",
    "first",
    "second",
    "third, other number",
  ]);
  const third = messages.find(
    (message) => message.text_preview === "third, other number",
  );
  expect(third.recipient).toBe("+15550000009");
  expect(third.sender).toBe("+15550000006");
  const { rows: statuses } = await db.pool.query(
    "SELECT * FROM status_event WHERE provider = 'meta'",
  );
  expect(statuses).toHaveLength(1);
  expect(statuses[0].status).toBe("delivered");
  expect(statuses[0].external_message_id).toBe(
    "wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAw52AA==",
  );
  const records = await recordsFor(requestId, 5);
  expect(records.map((record) => record.outcome).sort()).toEqual([
    "accepted",
    "accepted",
    "accepted",
    "accepted",
    "status_event",
  ]);
});

test("sendgrid default mode is stored", async () => {
  const { response } = await send("sendgrid_parse_default_utf8");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("provider = 'sendgrid'");
  expect(message.dedup_key).toBe(
    "sendgrid:<CAF00000000000000000000000000000001@mail.example.com>",
  );
  expect(message.dedup_kind).toBe("id");
  expect(message.sender).toBe("alice@example.com");
  expect(message.recipient).toBe("support@parse.example.test");
  expect(message.subject).toBe("Order 123 question");
  expect(message.text_preview).toBe("Hello, where is my order? 🤔\n");
  expect(message.media).toEqual([]);
});

test("mailgun route post is stored", async () => {
  const { response, requestId } = await send(
    "mailgun_route_forward_urlencoded",
  );
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("provider = 'mailgun'");
  expect(message.dedup_key).toBe(
    "mailgun:<CAM00000000000000000000000000000001@mail.example.com>",
  );
  expect(message.sender).toBe("alice@example.com");
  expect(message.recipient).toBe("support@mg.example.test");
  expect(message.subject).toBe("Re: Ticket #4521");
  expect(message.text_preview).toContain("Thanks, that fixed it!");
  expect(message.payload.token).toBeUndefined();
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("accepted");
});

test("mailgun retry is a duplicate", async () => {
  const { response, requestId } = await send(
    "mailgun_route_forward_urlencoded",
  );
  expect(response.status).toBe(200);
  const messages = await messagesWhere("provider = 'mailgun'");
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("duplicate");
});

test("mailgun bad signature is 406", async () => {
  const { response, requestId } = await send("mailgun_route_bad_signature");
  expect(response.status).toBe(406);
  const messages = await messagesWhere("provider = 'mailgun'");
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("unauthorized");
  expect(record.error_message).toContain("signature does not match");
});

test("postmark with basic auth is stored", async () => {
  const { response } = await send("postmark_inbound_basic_auth");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("provider = 'postmark'");
  expect(message.dedup_key).toBe(
    "postmark:a0000000-0000-4000-8000-000000000001",
  );
  expect(message.sender).toBe("alice@example.com");
  expect(message.recipient).toBe(
    "0000000000000000000000000000abcd+ticket42@inbound.postmarkapp.com",
  );
  expect(message.subject).toBe("Question about my account");
  expect(message.text_preview).toBe(
    "Hi team,\n\nI can't log in. ¿Pueden ayudarme? 🔐\n\nAlice",
  );
  expect(message.media).toHaveLength(1);
  expect(message.media[0].name).toBe("screenshot.png");
  expect(message.media[0].size).toBe(12);
  expect(message.media[0].contentBase64).toBe("iVBORw0KGgpmYWtl");
});

test("postmark without basic auth is 401", async () => {
  const { response, requestId } = await send(
    "postmark_inbound_missing_basic_auth",
  );
  expect(response.status).toBe(401);
  expect(response.headers["www-authenticate"]).toContain("Basic");
  const messages = await messagesWhere("provider = 'postmark'");
  expect(messages).toHaveLength(1);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("unauthorized");
});

test("resend svix headers are verified", async () => {
  const { response } = await send("resend_email_received_svix");
  expect(response.status).toBe(200);
  const [message] = await messagesWhere("provider = 'resend'");
  expect(message.dedup_key).toBe("resend:msg_2Z0000000000000000000001");
  expect(message.external_id).toBe("d0000000-0000-4000-8000-000000000001");
  expect(message.sender).toBe("alice@example.com");
  expect(message.recipient).toBe("support@inbound.example.test");
  expect(message.subject).toBe("Need help with invoice № 77");
  expect(message.media).toHaveLength(1);
  expect(message.media[0].name).toBe("invoice.pdf");
});

test("unknown provider lists provider routes", async () => {
  const response = await fetch(`${server.url}/api/webhooks/nope/sms`, {
    method: "POST",
  });
  expect(response.status).toBe(404);
  const body = await response.json();
  expect(body.routes).toContain("GET, POST /api/webhooks/twilio/sms");
  expect(body.routes).toContain("POST /api/webhooks/resend/email");
  expect(body.routes).toContain("GET, POST /api/webhooks/meta/whatsapp");
});
