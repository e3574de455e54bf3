import { afterAll, beforeAll, expect, test } from "vitest";
import {
  RequestRecordWriter,
  type RequestRecord,
} from "../../app/ingest/request-records.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("records");
});

afterAll(async () => {
  await db?.drop();
});

function record(
  n: number,
  overrides: Partial<RequestRecord> = {},
): RequestRecord {
  return {
    requestId: `rec-${n}`,
    receivedAt: new Date(),
    method: "POST",
    path: "/api/webhooks/test-multichannel",
    provider: null,
    channel: "sms",
    status: 201,
    outcome: "accepted",
    latencyMs: 1.5,
    messageId: null,
    duplicateOfId: null,
    errorMessage: null,
    excerpt: null,
    contentType: "application/json",
    contentLength: 100,
    clientIp: "127.0.0.1",
    ...overrides,
  };
}

async function countRows(sql: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(sql);
  return rows[0].n;
}

test("concurrent flushes write each record once", async () => {
  // A long interval keeps the timer out of the way. Records keep arriving
  // while flushes run, as under load, so waiting callers resume with a
  // non-empty buffer.
  const writer = new RequestRecordWriter(db.pool, 60_000);
  const flushes: Promise<void>[] = [];
  for (let n = 0; n < 5000; n++) {
    writer.add(record(n));
    if (n % 100 === 0) {
      flushes.push(writer.flush());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(flushes);
  await writer.close();
  expect(writer.pendingCount).toBe(0);
  expect(await countRows("SELECT count(*)::int AS n FROM request_record")).toBe(
    5000,
  );
  expect(
    await countRows(
      "SELECT count(DISTINCT request_id)::int AS n FROM request_record",
    ),
  ).toBe(5000);
  expect(
    await countRows(
      "SELECT sum(total)::int AS n FROM request_stats_minute WHERE channel = 'sms'",
    ),
  ).toBe(5000);
});
