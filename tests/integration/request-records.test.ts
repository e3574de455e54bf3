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

test("unstorable text is cleaned before writing", async () => {
  const writer = new RequestRecordWriter(db.pool, 60_000);
  writer.add(
    record(9001, {
      status: 400,
      outcome: "invalid",
      errorMessage: 'Unexpected token in "x\u0000y"',
      excerpt: "a\ud800b",
    }),
  );
  await writer.close();
  expect(writer.pendingCount).toBe(0);
  const { rows } = await db.pool.query(
    "SELECT error_message, excerpt FROM request_record WHERE request_id = 'rec-9001'",
  );
  expect(rows).toEqual([
    { error_message: 'Unexpected token in "xy"', excerpt: "a\ufffdb" },
  ]);
});

test("rejected record does not block the others", async () => {
  const statsTotal = async () => {
    const { rows } = await db.pool.query<{ total: number }>(
      "SELECT coalesce(sum(total), 0)::int AS total FROM request_stats_minute",
    );
    return rows[0].total;
  };
  const totalBefore = await statsTotal();
  const writer = new RequestRecordWriter(db.pool, 60_000);
  writer.add(record(9101));
  // content_length is an integer column, so PostgreSQL rejects this row.
  writer.add(record(9102, { contentLength: 3_000_000_000 }));
  writer.add(record(9103));
  await writer.close();
  expect(writer.pendingCount).toBe(0);
  const { rows } = await db.pool.query<{ request_id: string }>(
    `SELECT request_id FROM request_record
     WHERE request_id IN ('rec-9101', 'rec-9102', 'rec-9103')
     ORDER BY request_id`,
  );
  expect(rows.map((row) => row.request_id)).toEqual(["rec-9101", "rec-9103"]);
  expect(await statsTotal()).toBe(totalBefore + 2);
});

test("record added after close is dropped", async () => {
  const writer = new RequestRecordWriter(db.pool, 60_000);
  writer.add(record(9201));
  await writer.close();
  // A shutdown closes the pool right after the writer, so a late record of
  // a request still in flight cannot be written and must not wait.
  writer.add(record(9202));
  expect(writer.pendingCount).toBe(0);
  await writer.flush();
  expect(
    await countRows(
      "SELECT count(*)::int AS n FROM request_record WHERE request_id IN ('rec-9201', 'rec-9202')",
    ),
  ).toBe(1);
});
