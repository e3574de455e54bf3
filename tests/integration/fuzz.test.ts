import http from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { PROVIDER_ROUTES } from "../../app/ingest/providers/registry.server";
import { TEST_ENDPOINT_PATH } from "../../app/ingest/test-endpoint.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";
import { testWebhookSecrets } from "../support/webhook-secrets";

// Every request here is malformed or unauthenticated, so the server must
// respond to each one below 500, with a JSON error that has a message, and
// store nothing. Runs are seeded so a failure reproduces.
const SEED = 20261204;
const RUNS = 200;
const BODY_LIMIT_BYTES = 256 * 1024;

/** Every ingest route with the methods it serves. */
const ROUTES = [
  { path: TEST_ENDPOINT_PATH, methods: ["POST"], provider: "test" },
  ...PROVIDER_ROUTES.map((route) => ({
    path: `/api/webhooks/${route.provider}/${route.channel}`,
    methods: [...route.methods],
    provider: route.provider,
  })),
];

const CONTENT_TYPES = [
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "multipart/form-data",
  "text/plain",
  "application/xml",
  "application/vnd.api+json",
  "application/json; charset=latin1",
  "",
  "garbage",
];

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("fuzz");
  server = await startServer({
    DATABASE_URL: db.url,
    LOG_LEVEL: "warn",
    BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
    RATE_LIMIT_POINTS: "1000000",
    ...testWebhookSecrets(),
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Sends raw bytes with any method, which fetch does not allow. */
function send(
  method: string,
  path: string,
  headers: Record<string, string | undefined>,
  body: Buffer | null,
): Promise<Answer> {
  const url = new URL(server.url);
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) clean[name] = value;
  }
  if (body) clean["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: clean,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body ?? undefined);
  });
}

async function messageCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM message",
  );
  return rows[0].n;
}

/** Checks one rejected request: no 5xx, a JSON message, nothing stored. */
async function expectRejected(
  answer: Answer,
  before: number,
  provider: string,
  label: string,
) {
  expect(answer.status, label).toBeGreaterThanOrEqual(400);
  expect(answer.status, label).toBeLessThan(500);
  expect(await messageCount(), label).toBe(before);
  // Twilio's routes may respond in TwiML, which has no JSON message.
  if (provider === "twilio" && !answer.contentType.includes("json")) return;
  expect(answer.contentType, label).toMatch(/application\/json/);
  const parsed = JSON.parse(answer.body.toString("utf8")) as {
    message?: unknown;
  };
  expect(typeof parsed.message, label).toBe("string");
  expect((parsed.message as string).length, label).toBeGreaterThan(0);
}

const routeArb = fc.constantFrom(...ROUTES);
const contentTypeArb = fc.constantFrom(...CONTENT_TYPES);

/** JSON that is syntactically valid but of the wrong shape or types. */
const wrongJsonArb = fc.oneof(
  fc.json(),
  fc
    .record(
      {
        channel: fc.oneof(
          fc.constantFrom("email", "whatsapp", "sms", "fax", ""),
          fc.integer(),
          fc.constant(null),
        ),
        from: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        to: fc.oneof(fc.string(), fc.array(fc.string()), fc.boolean()),
        text: fc.oneof(fc.integer(), fc.constant(null), fc.object()),
        subject: fc.oneof(fc.integer(), fc.array(fc.integer())),
        messageId: fc.oneof(fc.constant(""), fc.integer(), fc.object()),
        media: fc.oneof(fc.string(), fc.array(fc.anything())),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);

/** Bytes that are not valid JSON or not valid UTF-8. */
const malformedArb = fc.oneof(
  fc.string().map((text) => `{${text}`),
  fc.string().map((text) => `${text}\u0000`),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    "",
    "{",
    "[",
    "null",
    "true",
    "1e999999",
    '"\\ud800"',
    '{"channel":"sms"',
    "{'channel':'sms'}",
    "channel=sms&from=%2B1&to=%2B2&text=%00",
    '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--xyz',
  ),
);

/** JSON of a valid sms payload with a NUL or a lone surrogate in a field. */
const unstorableArb = fc
  .record({
    field: fc.constantFrom("from", "to", "text", "messageId"),
    bad: fc.constantFrom("\\u0000", "\\ud800", "\\udfff", "a\\u0000b"),
  })
  .map(
    ({ field, bad }) =>
      `{"channel":"sms","from":"+14155550100","to":"+14155550111","text":"t",` +
      `"messageId":"m","${field}":"${bad}"}`,
  );

const bodyArb = fc.oneof(
  wrongJsonArb.map((text) => Buffer.from(text)),
  malformedArb.map((value) =>
    typeof value === "string" ? Buffer.from(value) : value,
  ),
  unstorableArb.map((text) => Buffer.from(text)),
);

test("fuzzed bodies never cause 5xx or storage", async () => {
  await fc.assert(
    fc.asyncProperty(
      routeArb,
      contentTypeArb,
      bodyArb,
      async (route, contentType, body) => {
        const before = await messageCount();
        const answer = await send(
          route.methods.includes("POST") ? "POST" : route.methods[0],
          route.path,
          { "content-type": contentType },
          body,
        );
        // A fuzzed body may be valid by chance; only then may it be stored.
        if (answer.status < 300 && route.provider === "test") {
          await db.pool.query("TRUNCATE message");
          return;
        }
        await expectRejected(
          answer,
          before,
          route.provider,
          `${route.path} ${contentType} ${body.subarray(0, 80).toString("hex")}`,
        );
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
});

const METHODS = [
  "GET",
  "HEAD",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
  "PURGE",
  "LINK",
];

test("odd methods and paths never cause 5xx", async () => {
  const segmentArb = fc.oneof(
    fc.constantFrom(
      "",
      "..",
      "%00",
      "%2e%2e",
      "%ff",
      "%",
      "a%2Fb",
      "\u00e9",
      "test-multichannel",
      ...ROUTES.map((route) => route.path.split("/").slice(3).join("/")),
    ),
    fc.stringMatching(/^[\w.~%-]{0,40}$/),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...METHODS),
      fc.array(segmentArb, { minLength: 0, maxLength: 4 }),
      fc.constantFrom("", "?", "?a=1&a=2", "?%zz", "#frag"),
      async (method, segments, suffix) => {
        const path = encodeURI(
          decodeURIComponentSafe(
            `/api/webhooks/${segments.join("/")}${suffix}`,
          ),
        );
        const before = await messageCount();
        const answer = await send(method, path, {}, null);
        const label = `${method} ${path}`;
        expect(answer.status, label).toBeLessThan(500);
        expect(await messageCount(), label).toBe(before);
        if (method === "HEAD" || answer.status < 400) return;
        if (answer.contentType.includes("json")) {
          const parsed = JSON.parse(answer.body.toString("utf8"));
          expect(typeof parsed.message, label).toBe("string");
        } else {
          expect(path, label).toMatch(/twilio/);
        }
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
});

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURI(value);
  } catch {
    return value;
  }
}

test("deep nesting returns 400", async () => {
  const depth = 100_000;
  const cases = {
    unbalanced: "[".repeat(depth),
    balanced: "[".repeat(depth) + "]".repeat(depth),
    inPayload:
      '{"channel":"sms","from":"+14155550100","to":"+14155550111",' +
      `"text":"deep","extra":${"[".repeat(depth)}${"]".repeat(depth)}}`,
    objects: '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000),
  };
  for (const route of ROUTES) {
    for (const [name, text] of Object.entries(cases)) {
      const before = await messageCount();
      const answer = await send(
        "POST",
        route.path,
        { "content-type": "application/json" },
        Buffer.from(text),
      );
      await expectRejected(
        answer,
        before,
        route.provider,
        `${route.path} ${name}`,
      );
    }
  }
});

test("nesting at the limit is stored", async () => {
  const extra = "[".repeat(63) + "]".repeat(63);
  const answer = await send(
    "POST",
    TEST_ENDPOINT_PATH,
    { "content-type": "application/json" },
    Buffer.from(
      '{"channel":"sms","from":"+14155550100","to":"+14155550111",' +
        `"text":"deep ok","extra":${extra}}`,
    ),
  );
  expect(answer.status).toBe(201);
});

test("huge strings and oversized bodies return 4xx", async () => {
  const huge = "x".repeat(BODY_LIMIT_BYTES - 200);
  const oversized = Buffer.alloc(BODY_LIMIT_BYTES + 1, "a");
  for (const route of ROUTES) {
    for (const contentType of CONTENT_TYPES.slice(0, 5)) {
      const before = await messageCount();
      const hugeAnswer = await send(
        "POST",
        route.path,
        { "content-type": contentType },
        Buffer.from(`{"channel":"sms","from":"${huge}","to":1}`),
      );
      await expectRejected(
        hugeAnswer,
        before,
        route.provider,
        `${route.path} huge`,
      );
      const oversizedAnswer = await send(
        "POST",
        route.path,
        { "content-type": contentType },
        oversized,
      );
      expect(oversizedAnswer.status, `${route.path} oversized`).toBeLessThan(
        500,
      );
      expect(
        oversizedAnswer.status,
        `${route.path} oversized`,
      ).toBeGreaterThanOrEqual(400);
      expect(await messageCount(), `${route.path} oversized`).toBe(before);
    }
  }
});

test("invalid UTF-8 returns 400", async () => {
  const body = Buffer.concat([
    Buffer.from(
      '{"channel":"sms","from":"+14155550100","to":"+14155550111","text":"',
    ),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    Buffer.from('"}'),
  ]);
  const before = await messageCount();
  const answer = await send(
    "POST",
    TEST_ENDPOINT_PATH,
    { "content-type": "application/json" },
    body,
  );
  expect(answer.status).toBe(400);
  await expectRejected(answer, before, "test", "invalid utf-8");
});
