import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { NormalizedMessage } from "../../app/ingest/message";
import { storeMessage } from "../../app/ingest/store.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

// storeMessage lets concurrent stores in a process share one statement:
// messages with different keys are inserted as one batch, and stores of one
// key wait for the first. These tests call it directly on a real database
// and count the statements that reach the pool.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("coalesce");
});

afterAll(async () => {
  await db?.drop();
});

function smsMessage(
  messageId: string,
  overrides: Partial<NormalizedMessage> = {},
): NormalizedMessage {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: "Your code is 123456",
    messageId,
  };
  return {
    channel: "sms",
    provider: "test",
    dedupKey: `id:${messageId}`,
    dedupKind: "id",
    externalId: messageId,
    sender: payload.from,
    recipient: payload.to,
    subject: null,
    text: payload.text,
    payload,
    payloadJson: JSON.stringify(payload),
    rawBody: null,
    headers: {},
    media: [],
    replayOfId: null,
    ...overrides,
  };
}

/** Counts the queries sent through `pool` while `run` runs. */
async function countQueries<T>(
  pool: pg.Pool,
  run: () => Promise<T>,
): Promise<{ result: T; queries: number }> {
  const query = pool.query.bind(pool);
  let queries = 0;
  pool.query = ((...args: Parameters<typeof query>) => {
    queries++;
    return query(...args);
  }) as typeof pool.query;
  try {
    return { result: await run(), queries };
  } finally {
    pool.query = query;
  }
}

async function rowsWithKey(dedupKey: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM message WHERE channel = 'sms' AND dedup_key = $1",
    [dedupKey],
  );
  return rows[0].n;
}

test("concurrent stores of one key share a statement", async () => {
  const messageId = `coalesce-${randomUUID()}`;
  const { result: results, queries } = await countQueries(db.pool, () =>
    Promise.all(
      Array.from({ length: 20 }, () =>
        storeMessage(db.pool, smsMessage(messageId), 24),
      ),
    ),
  );

  expect(queries).toBe(1);
  expect(results.filter((result) => result.inserted)).toHaveLength(1);
  expect(new Set(results.map((result) => result.id)).size).toBe(1);
  expect(await rowsWithKey(`id:${messageId}`)).toBe(1);
});

test("later store of a stored key is a duplicate", async () => {
  const messageId = `coalesce-${randomUUID()}`;
  const first = await storeMessage(db.pool, smsMessage(messageId), 24);
  const second = await storeMessage(db.pool, smsMessage(messageId), 24);

  expect(first.inserted).toBe(true);
  expect(second.inserted).toBe(false);
  expect(second.id).toBe(first.id);
  expect(second.receivedAt.getTime()).toBe(first.receivedAt.getTime());
});

test("concurrent different keys share a batch", async () => {
  const ids = Array.from({ length: 5 }, () => `coalesce-${randomUUID()}`);
  const { result: results, queries } = await countQueries(db.pool, () =>
    Promise.all(ids.map((id) => storeMessage(db.pool, smsMessage(id), 24))),
  );

  expect(queries).toBe(1);
  expect(results.every((result) => result.inserted)).toBe(true);
  expect(new Set(results.map((result) => result.id)).size).toBe(5);
  for (const id of ids) expect(await rowsWithKey(`id:${id}`)).toBe(1);
});

test("waiting store retries when the first fails", async () => {
  const messageId = `coalesce-${randomUUID()}`;
  // PostgreSQL rejects this payload as invalid JSON, so only the first
  // store fails; the second, valid copy must then store the message.
  const broken = smsMessage(messageId, { payloadJson: "{not json" });
  const [first, second] = await Promise.allSettled([
    storeMessage(db.pool, broken, 24),
    storeMessage(db.pool, smsMessage(messageId), 24),
  ]);

  expect(first.status).toBe("rejected");
  expect(second.status).toBe("fulfilled");
  const stored = (second as PromiseFulfilledResult<{ inserted: boolean }>)
    .value;
  expect(stored.inserted).toBe(true);
  expect(await rowsWithKey(`id:${messageId}`)).toBe(1);
});

test("bad row fails only its own request", async () => {
  const ids = Array.from({ length: 5 }, () => `batch-${randomUUID()}`);
  const messages = ids.map((id, index) =>
    index === 2 ? smsMessage(id, { payloadJson: "{not json" }) : smsMessage(id),
  );
  const { result: outcomes, queries } = await countQueries(db.pool, () =>
    Promise.allSettled(
      messages.map((message) => storeMessage(db.pool, message, 24)),
    ),
  );

  // The batch statement fails, then each message is stored on its own.
  expect(queries).toBe(1 + ids.length);
  expect(outcomes.map((outcome) => outcome.status)).toEqual([
    "fulfilled",
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
  ]);
  expect(await rowsWithKey(`id:${ids[2]}`)).toBe(0);
  for (const index of [0, 1, 3, 4]) {
    expect(await rowsWithKey(`id:${ids[index]}`)).toBe(1);
  }
});

test("batched duplicate of an old hash is stored anew", async () => {
  const hashKey = `sha256:batch-${randomUUID()}`;
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
       recipient, text_preview, payload, headers, received_at)
     VALUES ('sms', 'test', $1, 'hash', '+1', '+2', 'old', '{}', '{}',
       now() - interval '48 hours')
     RETURNING id`,
    [hashKey],
  );
  const oldId = rows[0].id;
  const again = smsMessage("unused", {
    dedupKey: hashKey,
    dedupKind: "hash",
    externalId: null,
  });
  const other = smsMessage(`batch-${randomUUID()}`);

  const [stored, otherStored] = await Promise.all([
    storeMessage(db.pool, again, 24),
    storeMessage(db.pool, other, 24),
  ]);

  expect(otherStored.inserted).toBe(true);
  // Past the 24-hour window the old row is no duplicate: its key is renamed
  // and the content is stored as a new message.
  expect(stored.inserted).toBe(true);
  expect(stored.id).not.toBe(oldId);
  expect(await rowsWithKey(hashKey)).toBe(1);
  expect(await rowsWithKey(`${hashKey}#${oldId}`)).toBe(1);
});

/** Polls `check` every 50 ms until it returns true, for up to 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("timed out after 5 s waiting for two blocked batches");
}

test("batches leave one pooled connection free", async () => {
  // The request-record writer needs a connection of the same pool, so a
  // pool of 3 runs at most 2 message batches. A transaction outside the
  // pool inserts three keys and stays open, so each store of one of them
  // waits on the unique index until it ends.
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  try {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await blocker.query("BEGIN");
    for (const id of ids) {
      await blocker.query(
        `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
           recipient, text_preview, payload, headers)
         VALUES ('sms', 'test', $1, 'id', 'a', 'b', '', '{}', '{}')`,
        [`id:${id}`],
      );
    }

    // One store per event loop turn, so each starts its own batch.
    const stores: Promise<{ inserted: boolean }>[] = [];
    for (const id of ids) {
      stores.push(storeMessage(pool, smsMessage(id), 24));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0].n === 2;
    });
    // Time for a third batch to ask the pool for a connection, if it would.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pool.totalCount).toBe(2);
    expect(pool.waitingCount).toBe(0);

    await blocker.query("COMMIT");
    const results = await Promise.all(stores);
    expect(results.map((result) => result.inserted)).toEqual([
      false,
      false,
      false,
    ]);
    for (const id of ids) expect(await rowsWithKey(`id:${id}`)).toBe(1);
  } finally {
    await blocker.end();
    await pool.end();
  }
});
