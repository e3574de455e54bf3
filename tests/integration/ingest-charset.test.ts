import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { sendRaw } from "../support/fixtures";
import {
  startServer,
  waitForRequestRecord,
  type RunningServer,
} from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("ingest_charset");
  server = await startServer({ DATABASE_URL: db.url });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

let requestCounter = 0;

function smsBody(messageId: string, text = "charset test"): string {
  return JSON.stringify({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550111",
    text,
    messageId,
  });
}

async function post(contentType: string | undefined, body: Buffer) {
  const requestId = `charset-${++requestCounter}`;
  const headers: Record<string, string> = { "x-request-id": requestId };
  if (contentType !== undefined) headers["content-type"] = contentType;
  const response = await sendRaw(server.url, "POST", ENDPOINT, headers, body);
  return { response, requestId };
}

async function messageCount(messageId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM message WHERE dedup_key = $1",
    [`id:${messageId}`],
  );
  return rows[0].n;
}

/**
 * Posts a valid message with `contentType` and checks the 415 response, its
 * message parts, that nothing was stored and the request record.
 */
async function expectRejected(
  contentType: string,
  messageParts: string[],
): Promise<void> {
  const messageId = randomUUID();
  const { response, requestId } = await post(
    contentType,
    Buffer.from(smsBody(messageId)),
  );
  expect(response.status, contentType).toBe(415);
  const errorBody = JSON.parse(response.body);
  expect(errorBody.error, contentType).toBe("unsupported_media_type");
  for (const part of messageParts) {
    expect(errorBody.message, contentType).toContain(part);
  }
  expect(await messageCount(messageId), contentType).toBe(0);
  const record = await waitForRequestRecord(db.pool, requestId);
  expect(record.outcome, contentType).toBe("unsupported_media_type");
  expect(record.status, contentType).toBe(415);
}

test("non-UTF-8 charsets return 415", async () => {
  const cases: [string, string][] = [
    ["application/json; charset=latin1", "latin1"],
    ["application/json; charset=LATIN1", "latin1"],
    ["application/json;charset=ISO-8859-1", "iso-8859-1"],
    ['application/json; charset="windows-1252"', "windows-1252"],
    ["application/json; charset=utf-16", "utf-16"],
    ["application/json; charset=utf-8x", "utf-8x"],
    ["application/vnd.api+json; charset=latin1", "latin1"],
  ];
  for (const [contentType, charset] of cases) {
    await expectRejected(contentType, [
      `got ${JSON.stringify(charset)}`,
      "must be UTF-8 JSON",
      "send charset=utf-8 or no charset",
    ]);
  }
});

test("malformed Content-Type returns 415", async () => {
  const cases = [
    "application/json; charset=",
    "application/json; charset",
    "application/json; charset=utf-8;",
    'application/json; charset="utf-8',
  ];
  for (const contentType of cases) {
    await expectRejected(contentType, [
      `Content-Type ${JSON.stringify(contentType)} is malformed`,
      "parameters only as name=value",
    ]);
  }
});

test("latin1 bytes return 415, not 400", async () => {
  const messageId = randomUUID();
  const body = Buffer.from(smsBody(messageId, "café"), "latin1");
  const { response } = await post("application/json; charset=latin1", body);
  expect(response.status).toBe(415);
  expect(await messageCount(messageId)).toBe(0);
});

test("UTF-8 or absent charset is stored", async () => {
  const cases: (string | undefined)[] = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=UTF-8",
    "application/json; charset=utf8",
    "application/json;charset=Utf8",
    'application/json; charset="utf-8"',
    "application/json ; charset = utf-8 ",
    "application/json; foo=bar; charset=utf-8",
    'application/json; foo="a;charset=latin1"; charset=utf-8',
    "application/json; CHARSET=utf-8",
    "application/vnd.api+json; charset=utf-8",
  ];
  for (const contentType of cases) {
    const label = String(contentType);
    const messageId = randomUUID();
    const { response } = await post(
      contentType,
      Buffer.from(smsBody(messageId, "café ✓")),
    );
    expect(response.status, label).toBe(201);
    expect(await messageCount(messageId), label).toBe(1);
  }
});

test("missing Content-Type still returns 415", async () => {
  const { response } = await post(undefined, Buffer.from(smsBody("none")));
  expect(response.status).toBe(415);
  expect(JSON.parse(response.body).message).toContain("got none");
});

test("GET description lists the charset rule", async () => {
  const response = await fetch(server.url + ENDPOINT);
  expect(response.status).toBe(200);
  const body = await response.json();
  expect(body.responses["415"]).toContain("charset");
});
