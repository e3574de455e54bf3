import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import pg from "pg";
import {
  freePort,
  startPostgresInstance,
  type PostgresInstance,
} from "../support/postgres-instance";
import {
  runServerToExit,
  startServer,
  waitFor,
  type RunningServer,
} from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";

let postgres: PostgresInstance;
let server: RunningServer;

beforeAll(async () => {
  postgres = await startPostgresInstance();
  server = await startServer({
    DATABASE_URL: postgres.url,
    DATABASE_QUERY_TIMEOUT_MS: "1500",
  });
}, 120_000);

afterAll(async () => {
  if (process.env.DEBUG_OUTPUT) console.log(server?.output.join("\n"));
  await server?.stop();
  await postgres?.destroy();
});

let sequence = 0;

function post(messageId = `outage-${++sequence}`) {
  return fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": messageId },
    body: JSON.stringify({
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: `outage ${messageId}`,
      messageId,
    }),
  });
}

async function query<T extends pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = await response.json();
  expect(body.error).toBe("unavailable");
  expect(body.message).toMatch(/database is unavailable/);
}

test("healthz returns 200", async () => {
  const response = await fetch(`${server.url}/healthz`);
  expect(response.status).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
});

test("readyz returns 200 with the database up", async () => {
  const response = await fetch(`${server.url}/readyz`);
  expect(response.status).toBe(200);
  const body = await response.json();
  expect(body.database).toBe("ok");
});

test("stopped database responds 503, recovers", async () => {
  expect((await post("before-stop")).status).toBe(201);
  await postgres.stop();

  // The first request after the stop meets pooled connections the server
  // closed, the next ones a refused connect: both must be 503.
  await expectUnavailable(await post("during-stop-1"));
  await expectUnavailable(await post("during-stop-2"));

  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(503);
  const readyBody = await ready.json();
  expect(readyBody.status).toBe("unavailable");
  expect(readyBody.message).toMatch(/SELECT 1 failed/);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  await postgres.start();
  const recovered = await waitFor(async () => {
    const response = await post("after-start");
    return response.status === 503 ? undefined : response;
  }, 15_000);
  expect(recovered.status).toBe(201);
  expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

  const stored = await query<{ external_id: string }>(
    "SELECT external_id FROM message ORDER BY external_id",
  );
  expect(stored.map((row) => row.external_id)).toEqual([
    "after-start",
    "before-stop",
  ]);
  // Records of the 503 responses waited in memory and are written now.
  const records = await waitFor(async () => {
    const rows = await query<{ request_id: string; status: number }>(
      "SELECT request_id, status FROM request_record WHERE request_id LIKE 'during-stop-%' ORDER BY request_id",
    );
    return rows.length === 2 ? rows : undefined;
  }, 10_000);
  expect(records.map((row) => row.status)).toEqual([503, 503]);
});

test("frozen database times out with 503", async () => {
  expect((await post("before-freeze")).status).toBe(201);
  await postgres.signal("SIGSTOP");
  try {
    // More requests than the pool has connections (10), so some wait for a
    // query on a pooled connection (query timeout) and the rest for a new
    // connection that never completes (pool connect timeout, 3 seconds).
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 14 }, (_, i) => post(`during-freeze-${i}`)),
    );
    expect(Date.now() - started).toBeLessThan(6000);
    for (const response of responses) await expectUnavailable(response);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).message).toMatch(/timed out/);
  } finally {
    await postgres.signal("SIGCONT");
  }
  const recovered = await waitFor(async () => {
    const response = await post("after-freeze");
    return response.status === 503 ? undefined : response;
  }, 15_000);
  expect(recovered.status).toBe(201);
  // A query sent before the freeze may still commit once the database
  // resumes, although its request got 503. The client's retry then gets 409
  // with the stored id, so each message ends up stored exactly once.
  for (let i = 0; i < 14; i++) {
    const retry = await post(`during-freeze-${i}`);
    expect([201, 409], `retry ${i}`).toContain(retry.status);
  }
  const frozenStored = await query<{ n: number }>(
    "SELECT count(*)::int AS n FROM message WHERE external_id LIKE 'during-freeze-%'",
  );
  expect(frozenStored[0].n).toBe(14);
});

test("boot with the database down exits with a message", async () => {
  const port = await freePort();
  const result = await runServerToExit({
    DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
  });
  expect(result.code).toBe(1);
  expect(result.output).toMatch(/Cannot reach the database at/);
  expect(result.output).toMatch(/ECONNREFUSED/);
  expect(result.output).toMatch(/Start PostgreSQL or fix DATABASE_URL/);
});

test("boot with a silent database exits after the timeout", async () => {
  // A listener that accepts and never responds simulates a host that
  // hangs during the PostgreSQL handshake.
  const silent: Server = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const address = silent.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const result = await runServerToExit(
      { DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres` },
      30_000,
    );
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Cannot reach the database at/);
    expect(result.output).toMatch(/timeout/i);
  } finally {
    silent.close();
  }
}, 60_000);
