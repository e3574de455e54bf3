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

test("duplicates are counted once per record", async () => {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
       recipient, text_preview, payload, headers)
     VALUES ('sms', 'test', 'id:count-1', 'id', '+1', '+2', 'x', '{}', '{}')
     RETURNING id`,
  );
  const id = rows[0].id;
  const writer = new RequestRecordWriter(db.pool, 60_000);
  const flushes: Promise<void>[] = [];
  for (let n = 0; n < 1500; n++) {
    writer.add(
      record(10_000 + n, {
        status: 409,
        outcome: "duplicate",
        duplicateOfId: id,
      }),
    );
    if (n % 50 === 0) {
      flushes.push(writer.flush());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(flushes);
  await writer.close();
  const counted = await db.pool.query<{ duplicate_count: number }>(
    "SELECT duplicate_count FROM message WHERE id = $1",
    [id],
  );
  expect(counted.rows[0].duplicate_count).toBe(1500);
});
