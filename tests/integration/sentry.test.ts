import { createServer, type Server } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor, type RunningServer } from "../support/server";

// A local HTTP sink replaces Sentry: the DSN points at it, and each
// envelope the SDK posts is kept for the assertions.
let sink: Server;
let sinkUrl: string;
const envelopes: string[] = [];
let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  sink = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body = Buffer.concat(chunks);
      if (request.headers["content-encoding"] === "gzip")
        body = gunzipSync(body);
      envelopes.push(`${request.url}\n${body.toString("utf8")}`);
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const address = sink.address();
  if (typeof address !== "object" || address === null)
    throw new Error("no sink address");
  sinkUrl = `http://127.0.0.1:${address.port}`;
  db = await createTestDatabase("sentry");
  server = await startServer({
    DATABASE_URL: db.url,
    SENTRY_DSN: `http://publickey@127.0.0.1:${address.port}/42`,
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await new Promise((resolve) => sink?.close(resolve));
});

test("unexpected ingest error reaches Sentry", async () => {
  // A missing table is an error the pipeline does not expect, unlike an
  // unreachable database or a bad payload.
  await db.pool.query("ALTER TABLE message RENAME TO message_moved");
  const response = await fetch(`${server.url}/api/webhooks/test-multichannel`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-request-id": "req-sentry-1",
    },
    body: JSON.stringify({
      channel: "sms",
      from: "+14155550100",
      to: "+14155550101",
      text: "boom",
    }),
  });
  expect(response.status).toBe(500);
  const body = await response.json();
  expect(body.error).toBe("internal_error");
  expect(body.message).toContain("req-sentry-1");

  const envelope = await waitFor(async () =>
    envelopes.find((entry) =>
      entry.includes('relation \\"message\\" does not exist'),
    ),
  );
  expect(envelope.startsWith("/api/42/envelope/")).toBe(true);
  expect(envelope).toContain("req-sentry-1");
  expect(sinkUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
});

test("without a DSN no event is sent", async () => {
  const quietDb = await createTestDatabase("sentry_off");
  const quiet = await startServer({ DATABASE_URL: quietDb.url });
  try {
    const before = envelopes.length;
    await quietDb.pool.query("ALTER TABLE message RENAME TO message_moved");
    const response = await fetch(
      `${quiet.url}/api/webhooks/test-multichannel`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          channel: "sms",
          from: "+14155550100",
          to: "+14155550101",
          text: "x",
        }),
      },
    );
    expect(response.status).toBe(500);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(envelopes.length).toBe(before);
    expect(
      quiet.output.some((line) => line.includes("Sentry error reporting on")),
    ).toBe(false);
  } finally {
    await quiet.stop();
    await quietDb.drop();
  }
});
