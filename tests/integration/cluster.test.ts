import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import {
  runServerToExit,
  startServer,
  waitFor,
  type RunningServer,
} from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";
const WORKERS = 2;

let db: TestDatabase;
let cluster: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("cluster");
  cluster = await startServer(
    { DATABASE_URL: db.url, WEB_CONCURRENCY: String(WORKERS) },
    { script: "server/cluster.ts", listeners: WORKERS },
  );
});

afterAll(async () => {
  await cluster?.stop();
  await db?.drop();
});

/** Returns the pids in the "webhook" log lines of the given request ids. */
function servingPids(requestIds: Set<string>): Set<number> {
  const pids = new Set<number>();
  for (const line of cluster.output) {
    if (!line.includes('"msg":"webhook"')) continue;
    const entry = JSON.parse(line) as { pid: number; requestId: string };
    if (requestIds.has(entry.requestId)) pids.add(entry.pid);
  }
  return pids;
}

test("cluster workers share one port", () => {
  const urls = cluster.output
    .map((line) => /"msg":"listening","url":"([^"]+)"/.exec(line)?.[1])
    .filter((url) => url !== undefined);
  expect(urls).toHaveLength(WORKERS);
  expect(new Set(urls).size).toBe(1);
});

test("cluster stores 50 concurrent duplicates once", async () => {
  const payload = JSON.stringify({
    channel: "sms",
    from: "+14155550100",
    to: "+14155550177",
    text: "cluster burst",
    messageId: "cluster-burst-1",
  });
  const requestIds = new Set(
    Array.from({ length: 50 }, (_, i) => `cluster-burst-${i}`),
  );
  const responses = await Promise.all(
    [...requestIds].map((requestId) =>
      fetch(cluster.url + ENDPOINT, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-request-id": requestId,
        },
        body: payload,
      }),
    ),
  );
  const statuses = responses.map((response) => response.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(1);
  expect(statuses.filter((status) => status === 409)).toHaveLength(49);

  const { rows } = await db.pool.query(
    "SELECT count(*)::int AS n FROM message WHERE dedup_key = $1",
    ["id:cluster-burst-1"],
  );
  expect(rows[0].n).toBe(1);

  // Each worker logs the requests it served, with its pid.
  const pids = await waitFor(async () => {
    const seen = servingPids(requestIds);
    return seen.size >= WORKERS ? seen : undefined;
  });
  expect(pids.size).toBe(WORKERS);
});

test("cluster rejects several workers on the embedded database", async () => {
  const { code, output } = await runServerToExit(
    { WEB_CONCURRENCY: "2", DATABASE_URL: "" },
    20_000,
    "server/cluster.ts",
  );
  expect(code).toBe(1);
  expect(output).toMatch(/WEB_CONCURRENCY=2 needs DATABASE_URL/);
});

test("cluster rejects a WEB_CONCURRENCY that is no number", async () => {
  const { code, output } = await runServerToExit(
    { WEB_CONCURRENCY: "many", DATABASE_URL: db.url },
    20_000,
    "server/cluster.ts",
  );
  expect(code).toBe(1);
  expect(output).toMatch(/WEB_CONCURRENCY must be a whole number/);
});
