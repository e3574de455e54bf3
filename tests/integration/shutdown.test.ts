import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, type RunningServer } from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";
const TOTAL = 2000;
const CONCURRENCY = 20;
const SIGNAL_AFTER = 600;

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("shutdown");
  server = await startServer({
    DATABASE_URL: db.url,
    LOG_LEVEL: "warn",
    RATE_LIMIT_POINTS: "1000000",
    SHUTDOWN_TIMEOUT_MS: "10000",
    // Records stay in memory for a long time, so only the flush at
    // shutdown can write the last of them.
    REQUEST_LOG_FLUSH_MS: "60000",
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type Outcome =
  | { messageId: string; status: number; id?: string }
  | { messageId: string; error: string };

test("SIGTERM under load loses no acknowledged message", async () => {
  const outcomes: Outcome[] = [];
  let next = 0;
  let finished = 0;
  let exitCode: Promise<number | null> | undefined;

  const worker = async () => {
    while (next < TOTAL) {
      const messageId = `shutdown-${next++}`;
      try {
        const response = await fetch(server.url + ENDPOINT, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            channel: "sms",
            from: "+14155550100",
            to: "+14155550111",
            text: `shutdown ${messageId}`,
            messageId,
          }),
        });
        const body = (await response.json()) as { id?: string };
        outcomes.push({ messageId, status: response.status, id: body.id });
      } catch (error) {
        outcomes.push({ messageId, error: String(error) });
      }
      finished++;
      if (finished === SIGNAL_AFTER) exitCode = server.stop("SIGTERM");
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  expect(await exitCode).toBe(0);
  const timedOut = server.output.filter((line) =>
    line.includes("shutdown timed out"),
  );
  expect(timedOut).toEqual([]);

  const answered = outcomes.filter((outcome) => "status" in outcome);
  const accepted = answered.filter((outcome) => outcome.status === 201);
  const turnedAway = answered.filter((outcome) => outcome.status === 503);
  const failed = outcomes.filter((outcome) => "error" in outcome);
  expect(outcomes).toHaveLength(TOTAL);
  const statuses = [...new Set(answered.map((o) => o.status))].sort();
  expect(statuses.filter((status) => status !== 201 && status !== 503)).toEqual(
    [],
  );
  expect(accepted.length).toBeGreaterThanOrEqual(SIGNAL_AFTER - CONCURRENCY);
  expect(accepted.length).toBeLessThan(TOTAL);
  expect(accepted.length + turnedAway.length + failed.length).toBe(TOTAL);

  const acceptedIds = accepted.map((outcome) => outcome.id);
  const { rows: stored } = await db.pool.query<{
    id: string;
    external_id: string;
  }>("SELECT id, external_id FROM message");
  const storedIds = new Set(stored.map((row) => row.id));
  const missing = acceptedIds.filter((id) => !storedIds.has(id!));
  expect(missing).toEqual([]);

  const storedExternal = stored.map((row) => row.external_id);
  expect(new Set(storedExternal).size).toBe(storedExternal.length);
  // A message may be stored without a response when its connection was cut,
  // but never when the server responded 503.
  const turnedAwayIds = new Set(turnedAway.map((outcome) => outcome.messageId));
  const storedTurnedAway = storedExternal.filter((id) => turnedAwayIds.has(id));
  expect(storedTurnedAway).toEqual([]);
  const acceptedMessageIds = new Set(accepted.map((o) => o.messageId));
  const failedIds = new Set(failed.map((outcome) => outcome.messageId));
  const unexplained = storedExternal.filter(
    (id) => !acceptedMessageIds.has(id) && !failedIds.has(id),
  );
  expect(unexplained).toEqual([]);

  const { rows: records } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM request_record WHERE outcome = 'accepted'",
  );
  expect(records[0].n).toBe(accepted.length);
  const { rows: stats } = await db.pool.query<{ n: number }>(
    "SELECT coalesce(sum(accepted), 0)::int AS n FROM request_stats_minute",
  );
  expect(stats[0].n).toBe(accepted.length);
});
