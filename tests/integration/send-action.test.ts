import { afterAll, beforeAll, expect, test } from "vitest";
import { TEST_PAYLOAD_EXAMPLES } from "../../app/ingest/test-payload";
import { sessionCookie } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor, type RunningServer } from "../support/server";

const BODY_LIMIT_BYTES = 4096;

let db: TestDatabase;
let server: RunningServer;
let cookie: string;

beforeAll(async () => {
  db = await createTestDatabase("send");
  server = await startServer({
    DATABASE_URL: db.url,
    BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
  });
  cookie = await sessionCookie(server, db, "developer");
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** Posts the test-send form the way a browser without JavaScript does. */
async function submit(
  channel: string,
  fields: Record<string, string>,
): Promise<{ status: number; html: string }> {
  const response = await fetch(`${server.url}/send/${channel}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: server.url,
      cookie,
    },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
  return { status: response.status, html: await response.text() };
}

function example(channel: keyof typeof TEST_PAYLOAD_EXAMPLES): string {
  return JSON.stringify(TEST_PAYLOAD_EXAMPLES[channel], null, 2);
}

function sendStatus(html: string): string | null {
  return /data-testid="send-status"[^>]*>([^<]*)</.exec(html)?.[1] ?? null;
}

function messageLink(html: string): string | null {
  return /href="\/messages\/([0-9a-f-]{36})"/.exec(html)?.[1] ?? null;
}

function textareaValue(html: string): string {
  const match = /<textarea[^>]*name="payload"[^>]*>([\s\S]*?)<\/textarea>/.exec(
    html,
  );
  if (!match) throw new Error("the page has no payload textarea");
  return match[1]
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

async function messageCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM message",
  );
  return Number(rows[0].n);
}

test("send stores the example with 201", async () => {
  const { status, html } = await submit("sms", {
    payload: example("sms"),
    intent: "send",
  });
  expect(status).toBe(200);
  expect(sendStatus(html)).toBe("201 Created");
  const id = messageLink(html);
  expect(id).not.toBeNull();
  const { rows } = await db.pool.query(
    "SELECT channel, external_id FROM message WHERE id = $1",
    [id],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].channel).toBe("sms");
  expect(rows[0].external_id).toBe("sms-example-0001");
  expect(html).toContain("Open the stored message");
  expect(html).toContain("Server latency");
});

test("send goes through the HTTP endpoint", async () => {
  const { html } = await submit("whatsapp", {
    payload: example("whatsapp"),
    intent: "send",
  });
  const id = messageLink(html);
  expect(id).not.toBeNull();
  const records = await waitFor(async () => {
    const { rows } = await db.pool.query(
      "SELECT method, path, status, outcome FROM request_record WHERE message_id = $1",
      [id],
    );
    return rows.length > 0 ? rows : undefined;
  });
  expect(records).toHaveLength(1);
  expect(records[0].method).toBe("POST");
  expect(records[0].path).toBe("/api/webhooks/test-multichannel");
  expect(records[0].status).toBe(201);
  expect(records[0].outcome).toBe("accepted");
});

test("send again returns 409 and the original", async () => {
  const payload = JSON.stringify({
    ...TEST_PAYLOAD_EXAMPLES.email,
    messageId: "email-send-again-1",
  });
  const first = await submit("email", { payload, intent: "send" });
  expect(sendStatus(first.html)).toBe("201 Created");
  const again = await submit("email", { payload, intent: "again" });
  expect(again.status).toBe(200);
  expect(sendStatus(again.html)).toBe("409 Conflict");
  expect(messageLink(again.html)).toBe(messageLink(first.html));
  expect(again.html).toContain("Open the original message");
  expect(textareaValue(again.html)).toBe(payload);
});

test("new message id stores a new message", async () => {
  const before = await messageCount();
  const { status, html } = await submit("email", {
    payload: example("email"),
    intent: "new-id",
  });
  expect(status).toBe(200);
  expect(sendStatus(html)).toBe("201 Created");
  const sent = JSON.parse(textareaValue(html));
  expect(sent.messageId).toMatch(
    /^email-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  );
  expect(sent.subject).toBe(TEST_PAYLOAD_EXAMPLES.email.subject);
  expect(await messageCount()).toBe(before + 1);
  const { rows } = await db.pool.query(
    "SELECT external_id FROM message WHERE id = $1",
    [messageLink(html)],
  );
  expect(rows[0].external_id).toBe(sent.messageId);
});

test("invalid JSON is rejected inline", async () => {
  const before = await messageCount();
  const { status, html } = await submit("sms", {
    payload: '{"channel": "sms",',
    intent: "send",
  });
  expect(status).toBe(400);
  expect(html).toContain("The payload is invalid");
  expect(html).toContain("is not valid JSON");
  expect(html).toContain('aria-invalid="true"');
  expect(textareaValue(html)).toBe('{"channel": "sms",');
  expect(sendStatus(html)).toBeNull();
  expect(await messageCount()).toBe(before);
});

test("empty payload asks for one", async () => {
  const before = await messageCount();
  const { status, html } = await submit("sms", {
    payload: "  ",
    intent: "send",
  });
  expect(status).toBe(400);
  expect(html).toContain("is empty: load the example or paste a JSON payload");
  expect(html).not.toContain("is not valid JSON");
  expect(await messageCount()).toBe(before);
});

test("schema error names the field", async () => {
  const before = await messageCount();
  const payload = JSON.stringify({
    ...TEST_PAYLOAD_EXAMPLES.email,
    from: "not-an-address",
    to: [],
  });
  const { status, html } = await submit("email", {
    payload,
    intent: "send",
  });
  expect(status).toBe(400);
  expect(html).toContain('<code class="font-mono">from</code>');
  expect(html).toContain("must be an email address such as ana@example.com");
  expect(html).toContain('<code class="font-mono">to</code>');
  expect(sendStatus(html)).toBeNull();
  expect(await messageCount()).toBe(before);
});

test("payload of another channel is rejected", async () => {
  const { status, html } = await submit("email", {
    payload: example("sms"),
    intent: "send",
  });
  expect(status).toBe(400);
  expect(html).toContain('<code class="font-mono">channel</code>');
  expect(html).toContain("use /send/sms to send sms");
});

test("missing payload field is rejected", async () => {
  const { status, html } = await submit("sms", { intent: "send" });
  expect(status).toBe(400);
  expect(html).toContain('<code class="font-mono">payload</code>');
  expect(html).toContain("is required");
});

test("unknown intent is rejected", async () => {
  const { status, html } = await submit("sms", {
    payload: example("sms"),
    intent: "delete",
  });
  expect(status).toBe(400);
  expect(html).toContain('<code class="font-mono">intent</code>');
  expect(html).toContain("must be one of send, again, new-id");
});

test("unknown channel returns 404", async () => {
  const page = await fetch(`${server.url}/send/fax`, { headers: { cookie } });
  expect(page.status).toBe(404);
  const post = await submit("fax", { payload: "{}", intent: "send" });
  expect(post.status).toBe(404);
});

test("form is prefilled with the example", async () => {
  const response = await fetch(`${server.url}/send/whatsapp`, {
    headers: { cookie },
  });
  expect(response.status).toBe(200);
  const html = await response.text();
  expect(JSON.parse(textareaValue(html))).toEqual(
    TEST_PAYLOAD_EXAMPLES.whatsapp,
  );
  expect(html).toContain('href="/send/provider"');
  expect(html).toContain('<label for="payload"');
});

test("payload over the body limit gets 413", async () => {
  const payload = JSON.stringify({
    ...TEST_PAYLOAD_EXAMPLES.email,
    messageId: "email-too-large-1",
    text: "x".repeat(BODY_LIMIT_BYTES),
  });
  const { status, html } = await submit("email", {
    payload,
    intent: "send",
  });
  expect(status).toBe(200);
  expect(sendStatus(html)).toBe("413 Payload Too Large");
  expect(messageLink(html)).toBeNull();
});

test("oversized form is rejected with 413", async () => {
  const before = await messageCount();
  const { status, html } = await submit("email", {
    payload: "x".repeat(3 * BODY_LIMIT_BYTES + 2048),
    intent: "send",
  });
  expect(status).toBe(413);
  expect(html).toContain("Shorten the payload");
  expect(await messageCount()).toBe(before);
});
