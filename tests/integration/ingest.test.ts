import http from "node:http";
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor, type RunningServer } from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("ingest");
  server = await startServer({
    DATABASE_URL: db.url,
    BODY_LIMIT_BYTES: "4096",
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function messageCount(
  where = "true",
  values: unknown[] = [],
): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM message WHERE ${where}`,
    values,
  );
  return Number(rows[0].n);
}

async function recordsFor(requestId: string) {
  return waitFor(async () => {
    const { rows } = await db.pool.query(
      "SELECT * FROM request_record WHERE request_id = $1",
      [requestId],
    );
    return rows.length > 0 ? rows : undefined;
  });
}

test("GET describes the endpoint with an example per channel", async () => {
  const response = await fetch(server.url + ENDPOINT);
  expect(response.status).toBe(200);
  const body = await response.json();
  expect(body.endpoint).toBe(ENDPOINT);
  expect(body.method).toBe("POST");
  expect(
    body.examples.map((example: { channel: string }) => example.channel),
  ).toEqual(["email", "whatsapp", "sms"]);
  expect(Object.keys(body.responses)).toEqual(
    expect.arrayContaining(["201", "400", "405", "409", "413", "415"]),
  );
});

test("each GET example is accepted with 201", async () => {
  const { examples } = await (await fetch(server.url + ENDPOINT)).json();
  for (const example of examples) {
    const response = await post(example);
    expect(response.status, JSON.stringify(example)).toBe(201);
    const body = await response.json();
    expect(body.channel).toBe(example.channel);
    expect(body.dedupKey).toBe(`id:${example.messageId}`);
    expect(typeof body.latencyMs).toBe("number");
    expect(new Date(body.receivedAt).toString()).not.toBe("Invalid Date");
  }
});

test("sms is stored with normalized fields", async () => {
  const response = await post(
    {
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: "stored sms",
      messageId: "sms-store-1",
    },
    {
      "x-request-id": "req-sms-store-1",
      authorization: "Bearer secret",
      cookie: "a=b",
    },
  );
  expect(response.status).toBe(201);
  const { id } = await response.json();
  const { rows } = await db.pool.query("SELECT * FROM message WHERE id = $1", [
    id,
  ]);
  expect(rows).toHaveLength(1);
  const row = rows[0];
  expect(row.channel).toBe("sms");
  expect(row.provider).toBe("test");
  expect(row.sender).toBe("+14155550100");
  expect(row.recipient).toBe("+14155550111");
  expect(row.text_preview).toBe("stored sms");
  expect(row.payload.text).toBe("stored sms");
  expect(row.headers["x-request-id"]).toBe("req-sms-store-1");
  expect(row.headers.authorization).toBeUndefined();
  expect(row.headers.cookie).toBeUndefined();
  const records = await recordsFor("req-sms-store-1");
  expect(records[0].outcome).toBe("accepted");
  expect(records[0].status).toBe(201);
  expect(records[0].message_id).toBe(id);
  expect(records[0].latency_ms).toBeGreaterThan(0);
});

test("email with a list of recipients and html only", async () => {
  const response = await post({
    channel: "email",
    from: "ana@example.com",
    to: ["a@example.com", "b@example.com"],
    subject: "Hello",
    html: "<p>Hi <b>there</b></p>",
  });
  expect(response.status).toBe(201);
  const { id, dedupKey } = await response.json();
  expect(dedupKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  const { rows } = await db.pool.query("SELECT * FROM message WHERE id = $1", [
    id,
  ]);
  expect(rows[0].recipient).toBe("a@example.com, b@example.com");
  expect(rows[0].subject).toBe("Hello");
  expect(rows[0].text_preview).toBe("Hi there");
});

test("duplicate messageId answers 409 with the original", async () => {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550111",
    text: "dup",
    messageId: "dup-1",
  };
  const first = await post(payload);
  expect(first.status).toBe(201);
  const original = await first.json();
  const second = await post(
    { ...payload, text: "different text, same id" },
    { "x-request-id": "req-dup-1b" },
  );
  expect(second.status).toBe(409);
  const body = await second.json();
  expect(body.error).toBe("duplicate");
  expect(body.duplicateOf).toBe(original.id);
  expect(body.firstReceivedAt).toBe(original.receivedAt);
  expect(body.message).toContain(original.id);
  expect(await messageCount("dedup_key = 'id:dup-1'")).toBe(1);
  const records = await recordsFor("req-dup-1b");
  expect(records[0].outcome).toBe("duplicate");
  expect(records[0].duplicate_of_id).toBe(original.id);
});

test("same messageId on another channel is a new message", async () => {
  const sms = await post({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550111",
    text: "x",
    messageId: "cross-1",
  });
  const wa = await post({
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550111",
    text: "x",
    messageId: "cross-1",
  });
  expect(sms.status).toBe(201);
  expect(wa.status).toBe(201);
});

test("key order and whitespace changes are duplicates", async () => {
  const first = await post(
    '{"channel":"sms","from":"+14155550100","to":"+14155550122","text":"order test"}',
  );
  expect(first.status).toBe(201);
  const reordered = await post(
    '{\n  "text" : "order test",\n  "to":"+14155550122",   "from": "+14155550100",\n"channel":"sms" }\n',
  );
  expect(reordered.status).toBe(409);
  const changed = await post(
    '{"channel":"sms","from":"+14155550100","to":"+14155550122","text":"order test!"}',
  );
  expect(changed.status).toBe(201);
});

test("content hash outside the window is a new message", async () => {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550133",
    text: "window test",
  };
  const first = await post(payload);
  expect(first.status).toBe(201);
  const { id } = await first.json();
  await db.pool.query(
    "UPDATE message SET received_at = now() - interval '25 hours' WHERE id = $1",
    [id],
  );
  const second = await post(payload);
  expect(second.status).toBe(201);
  const again = await post(payload);
  expect(again.status).toBe(409);
  expect(
    await messageCount(
      "sender = '+14155550100' AND recipient = '+14155550133'",
    ),
  ).toBe(2);
});

test("messageId duplicates never expire", async () => {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550144",
    text: "old",
    messageId: "old-id-1",
  };
  const first = await post(payload);
  const { id } = await first.json();
  await db.pool.query(
    "UPDATE message SET received_at = now() - interval '400 days' WHERE id = $1",
    [id],
  );
  expect((await post(payload)).status).toBe(409);
});

test("50 concurrent identical posts give one 201", async () => {
  const payload = {
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550155",
    text: "burst",
  };
  const responses = await Promise.all(
    Array.from({ length: 50 }, () => post(payload)),
  );
  const statuses = responses.map((response) => response.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(1);
  expect(statuses.filter((status) => status === 409)).toHaveLength(49);
  expect(await messageCount("recipient = '+14155550155'")).toBe(1);
  // Each duplicate's request record points at the original.
  const duplicateCount = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM request_record r
       JOIN message m ON m.id = r.duplicate_of_id
       WHERE m.recipient = '+14155550155'`,
    );
    return rows[0].n === 49 ? 49 : undefined;
  });
  expect(duplicateCount).toBe(49);
});

test("malformed JSON answers 400 naming the problem", async () => {
  const response = await post('{"channel": "sms",', {
    "x-request-id": "req-bad-json",
  });
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body.error).toBe("invalid_payload");
  expect(body.message).toMatch(/not valid UTF-8 JSON/);
  expect(body.issues[0].path).toBe("(root)");
  const records = await recordsFor("req-bad-json");
  expect(records[0].outcome).toBe("invalid");
  expect(records[0].excerpt).toBe('{"channel": "sms",');
});

test("NUL in a key is recorded", async () => {
  // The 400 message quotes the key, NUL included, which PostgreSQL text
  // cannot store. The record is written without the NUL.
  const response = await post('{"channel":"sms","x\\u0000y":1}', {
    "x-request-id": "req-nul-key",
  });
  expect(response.status).toBe(400);
  const records = await recordsFor("req-nul-key");
  expect(records[0].outcome).toBe("invalid");
  expect(records[0].error_message).not.toContain("\u0000");
});

test("numbers beyond a double return 400", async () => {
  const cases = [
    ["1e400", "amount"],
    ["-1e1000000", "amount"],
    [`1${"0".repeat(400)}`, "amount"],
    // 1e309: a two-digit exponent on a long mantissa.
    [`1${"0".repeat(210)}e99`, "amount"],
    [`1${"0".repeat(210)}.5E+99`, "amount"],
  ];
  for (const [number, path] of cases) {
    const body =
      `{"channel":"sms","from":"+14155550100","to":"+14155550199",` +
      `"text":"big","messageId":"${randomUUID()}","${path}":${number}}`;
    const response = await post(body);
    expect(response.status, number.slice(0, 20)).toBe(400);
    const result = await response.json();
    expect(result.issues[0].path).toBe(path);
    expect(result.issues[0].message).toMatch(/too large to store/);
  }
});

test("non-object body answers 400 on root", async () => {
  const cases: [string, string][] = [
    ["[]", "array"],
    ["null", "null"],
    ['"sms"', "string"],
    ["42", "number"],
  ];
  for (const [body, type] of cases) {
    const response = await post(body);
    expect(response.status, body).toBe(400);
    const result = await response.json();
    expect(result.issues, body).toEqual([
      {
        path: "(root)",
        message: `must be a JSON object with a channel field, got ${type}`,
      },
    ]);
  }
});

test("schema errors list each field", async () => {
  const response = await post(
    { channel: "sms", from: "12345", text: "" },
    { "x-request-id": "req-schema-errors" },
  );
  expect(response.status).toBe(400);
  const body = await response.json();
  const paths = body.issues.map((issue: { path: string }) => issue.path);
  expect(paths).toEqual(expect.arrayContaining(["from", "to", "text"]));
  const to = body.issues.find((issue: { path: string }) => issue.path === "to");
  expect(to.message).toBe("is required");
  const from = body.issues.find(
    (issue: { path: string }) => issue.path === "from",
  );
  expect(from.message).toMatch(/E\.164/);
  // The rejection counts under the channel the payload names.
  const records = await recordsFor("req-schema-errors");
  expect(records[0].outcome).toBe("invalid");
  expect(records[0].channel).toBe("sms");
});

test("unknown channel answers 400 on channel", async () => {
  const response = await post(
    { channel: "fax", from: "a", to: "b" },
    { "x-request-id": "req-unknown-channel" },
  );
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body.issues[0].path).toBe("channel");
  expect(body.issues[0].message).toMatch(/email, whatsapp, sms/);
  const records = await recordsFor("req-unknown-channel");
  expect(records[0].channel).toBeNull();
});

test("sms longer than 1600 characters is rejected", async () => {
  const response = await post({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550111",
    text: "x".repeat(1601),
  });
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body.issues[0].path).toBe("text");
});

test("media item without a URL is rejected by path", async () => {
  const response = await post({
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550111",
    media: [{ url: "not a url", contentType: "image/png" }],
  });
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body.issues[0].path).toBe("media[0].url");
});

test("non-JSON content type answers 415", async () => {
  const response = await fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "hello",
  });
  expect(response.status).toBe(415);
  const body = await response.json();
  expect(body.error).toBe("unsupported_media_type");
  expect(body.message).toMatch(/application\/json/);
});

test("gzip body answers 415 on encoding", async () => {
  const messageId = randomUUID();
  const body = gzipSync(
    JSON.stringify({
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: "compressed",
      messageId,
    }),
  );
  const requestId = `gzip-${messageId}`;
  const response = await fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "x-request-id": requestId,
    },
    body,
  });
  expect(response.status).toBe(415);
  expect(response.headers.get("accept-encoding")).toBe("identity");
  const json = await response.json();
  expect(json.error).toBe("unsupported_content_encoding");
  expect(json.message).toMatch(/Content-Encoding "gzip" is not supported/);
  expect(await messageCount("external_id = $1", [messageId])).toBe(0);
  const [record] = await recordsFor(requestId);
  expect(record.outcome).toBe("unsupported_media_type");
  expect(record.status).toBe(415);
});

test("long messageId returns stored digest key", async () => {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550111",
    text: "long id",
    // 256 two-byte characters: 515 bytes with the "id:" prefix.
    messageId: "ü".repeat(256),
  };
  const first = await post(payload);
  expect(first.status).toBe(201);
  const stored = await first.json();
  expect(stored.dedupKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  const { rows } = await db.pool.query<{ dedup_key: string }>(
    "SELECT dedup_key FROM message WHERE id = $1",
    [stored.id],
  );
  expect(rows[0].dedup_key).toBe(stored.dedupKey);

  const again = await post(payload);
  expect(again.status).toBe(409);
  const duplicate = await again.json();
  expect(duplicate.dedupKey).toBe(stored.dedupKey);
  expect(duplicate.duplicateOf).toBe(stored.id);
});

test("identity encoding is accepted", async () => {
  const response = await post(
    {
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: "identity",
      messageId: randomUUID(),
    },
    { "content-encoding": "identity" },
  );
  expect(response.status).toBe(201);
});

test("other methods answer 405 with Allow", async () => {
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const response = await fetch(server.url + ENDPOINT, { method });
    expect(response.status, method).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
    const body = await response.json();
    expect(body.message).toMatch(/GET or POST/);
  }
});

test("body over the limit answers 413", async () => {
  const text = "y".repeat(5000);
  const response = await post(
    { channel: "sms", from: "+14155550100", to: "+14155550111", text },
    { "x-request-id": "req-413" },
  );
  expect(response.status).toBe(413);
  const body = await response.json();
  expect(body.error).toBe("payload_too_large");
  expect(body.message).toMatch(/4096 bytes/);
  const records = await recordsFor("req-413");
  expect(records[0].outcome).toBe("too_large");
});

test("chunked body over the limit answers 413 before it ends", async () => {
  // The body is streamed without Content-Length; the server must respond as
  // soon as the limit is passed, while the client is still sending.
  const chunk = Buffer.alloc(1024, "z");
  const totalChunks = 2000;
  const result = await new Promise<{
    status: number;
    sentWhenAnswered: number;
  }>((resolve, reject) => {
    let sent = 0;
    const request = http.request(server.url + ENDPOINT, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      },
    });
    request.on("response", (response) => {
      resolve({ status: response.statusCode ?? 0, sentWhenAnswered: sent });
      response.resume();
    });
    request.on("error", reject);
    const writeMore = () => {
      while (sent < totalChunks) {
        sent++;
        if (!request.write(chunk)) {
          request.once("drain", () => setTimeout(writeMore, 1));
          return;
        }
      }
      request.end();
    };
    writeMore();
  });
  expect(result.status).toBe(413);
  expect(result.sentWhenAnswered).toBeLessThan(totalChunks);
});

test("unknown webhook route answers 404 with the route list", async () => {
  const response = await fetch(`${server.url}/api/webhooks/nope/sms`, {
    method: "POST",
  });
  expect(response.status).toBe(404);
  const body = await response.json();
  expect(body.error).toBe("not_found");
  expect(body.routes).toContain("GET, POST /api/webhooks/test-multichannel");
});

test("NUL in a JSON string answers 400 on its field", async () => {
  const response = await post(
    '{"channel":"sms","from":"+14155550100","to":"+14155550111","text":"a\\u0000b","messageId":"nul-1"}',
  );
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body.error).toBe("invalid_payload");
  expect(body.issues[0].path).toBe("text");
  expect(body.issues[0].message).toMatch(/NUL character/);
  expect(await messageCount("dedup_key = 'id:nul-1'")).toBe(0);
});

test("lone surrogate answers 400 on its field", async () => {
  for (const messageId of ["", ',"messageId":"surrogate-1"']) {
    const response = await post(
      `{"channel":"sms","from":"+14155550100","to":"+14155550111","text":"lone \\ud800"${messageId}}`,
    );
    expect(response.status, messageId).toBe(400);
    const body = await response.json();
    expect(body.issues[0].path).toBe("text");
    expect(body.issues[0].message).toMatch(/lone UTF-16 surrogate/);
  }
});

test("paired surrogate escapes are stored", async () => {
  const response = await post(
    '{"channel":"sms","from":"+14155550100","to":"+14155550111","text":"smile \\ud83d\\ude00","messageId":"pair-1"}',
  );
  expect(response.status).toBe(201);
  const { id } = await response.json();
  const { rows } = await db.pool.query(
    "SELECT text_preview FROM message WHERE id = $1",
    [id],
  );
  expect(rows[0].text_preview).toBe("smile 😀");
});

test("request log line is JSON with the outcome", async () => {
  await post(
    {
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: "log",
      messageId: "log-1",
    },
    { "x-request-id": "req-log-1" },
  );
  await recordsFor("req-log-1");
  await server.stop();
  const line = server.output.find((entry) =>
    entry.includes('"requestId":"req-log-1"'),
  );
  expect(line).toBeDefined();
  const parsed = JSON.parse(line!);
  expect(parsed.outcome).toBe("accepted");
  expect(parsed.status).toBe(201);
  expect(parsed.channel).toBe("sms");
  server = await startServer({
    DATABASE_URL: db.url,
    BODY_LIMIT_BYTES: "4096",
  });
});

test("client hang-up is not a database outage", async () => {
  const requestId = `req-abort-${randomUUID()}`;
  const url = new URL(server.url + ENDPOINT);
  await new Promise<void>((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": "1000",
        "x-request-id": requestId,
      },
    });
    request.on("error", () => resolve());
    request.on("close", () => resolve());
    request.on("response", () => reject(new Error("expected no response")));
    request.write('{"channel":"sms"');
    setTimeout(() => request.destroy(), 200);
  });
  const line = await waitFor(async () =>
    server.output.find((entry) => entry.includes(requestId)),
  );
  expect(line).toContain("client closed the connection before the body ended");
  expect(
    server.output.filter(
      (entry) =>
        entry.includes(requestId) &&
        entry.includes("database unavailable during ingest"),
    ),
  ).toEqual([]);
});
