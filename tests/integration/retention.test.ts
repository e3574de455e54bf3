import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { purgeExpired } from "../../app/maintenance/retention.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startServer, waitFor } from "../support/server";

const ROOT = path.resolve(import.meta.dirname, "../..");
const NOW = new Date("2026-12-04T12:00:00Z");
const DAY = 86_400_000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("retention");
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query(
    "TRUNCATE message, request_record, status_event, request_stats_minute",
  );
});

/** Inserts `count` rows into each retained table, all `ageDays` old. */
async function seed(
  count: number,
  ageDays: number,
  tag: string,
  base: Date = NOW,
) {
  const at = new Date(base.getTime() - ageDays * DAY);
  for (let i = 0; i < count; i++) {
    await db.pool.query(
      `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
         recipient, text_preview, payload, headers, media, received_at)
       VALUES ('sms', 'test', $1, 'id', 'a', 'b', 't', '{}', '{}', '[]', $2)`,
      [`${tag}-${i}`, at],
    );
    await db.pool.query(
      `INSERT INTO request_record (request_id, received_at, method, path,
         status, outcome, latency_ms)
       VALUES ($1, $2, 'POST', '/api/webhooks/test-multichannel', 201,
         'accepted', 1)`,
      [`${tag}-${i}`, at],
    );
    await db.pool.query(
      `INSERT INTO status_event (provider, channel, external_message_id,
         status, payload, received_at)
       VALUES ('twilio', 'sms', $1, 'delivered', '{}', $2)`,
      [`${tag}-${i}`, at],
    );
    await db.pool.query(
      `INSERT INTO request_stats_minute (bucket, channel, total, latency_hist)
       VALUES ($1, $2, 1, '{}')`,
      [new Date(at.getTime() - i * 60_000), `${tag}`],
    );
  }
}

async function counts() {
  const { rows } = await db.pool.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM message)::int AS message,
            (SELECT count(*) FROM request_record)::int AS request_record,
            (SELECT count(*) FROM status_event)::int AS status_event,
            (SELECT count(*) FROM request_stats_minute)::int AS request_stats_minute`,
  );
  return rows[0];
}

test("purge deletes only rows past retention", async () => {
  await seed(5, 40, "old");
  await seed(3, 29, "recent");
  const result = await purgeExpired(db.pool, { retentionDays: 30, now: NOW });
  expect(result.cutoff.toISOString()).toBe("2026-11-04T12:00:00.000Z");
  expect(result.deleted).toEqual({
    message: 5,
    request_record: 5,
    status_event: 5,
    request_stats_minute: 5,
  });
  expect(await counts()).toEqual({
    message: 3,
    request_record: 3,
    status_event: 3,
    request_stats_minute: 3,
  });
  const { rows } = await db.pool.query<{ dedup_key: string }>(
    "SELECT dedup_key FROM message ORDER BY dedup_key",
  );
  expect(rows.map((row) => row.dedup_key)).toEqual([
    "recent-0",
    "recent-1",
    "recent-2",
  ]);
});

test("purge deletes in batches", async () => {
  await seed(7, 31, "old");
  const result = await purgeExpired(db.pool, {
    retentionDays: 30,
    now: NOW,
    batchSize: 3,
  });
  expect(result.deleted.message).toBe(7);
  expect(result.deleted.request_stats_minute).toBe(7);
  // 7 rows at 3 per statement is 3 statements per table: 3 + 3 + 1.
  expect(result.statements).toBe(12);
  expect((await counts()).message).toBe(0);
});

test("purge stops between batches on request", async () => {
  await seed(6, 31, "old");
  let checks = 0;
  const result = await purgeExpired(db.pool, {
    retentionDays: 30,
    now: NOW,
    batchSize: 2,
    shouldStop: () => ++checks > 2,
  });
  expect(result.statements).toBe(2);
  expect(result.deleted.message).toBe(4);
  expect((await counts()).message).toBe(2);
});

test("npm run purge prints what it deleted", async () => {
  // Ages are relative to the real clock because the script uses it.
  const now = Date.now();
  await db.pool.query(
    `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
       recipient, text_preview, payload, headers, media, received_at)
     VALUES ('sms', 'test', 'cli-old', 'id', 'a', 'b', 't', '{}', '{}', '[]', $1),
            ('sms', 'test', 'cli-new', 'id', 'a', 'b', 't', '{}', '{}', '[]', $2)`,
    [new Date(now - 11 * DAY), new Date(now - 9 * DAY)],
  );
  const child = spawn("npm", ["run", "--silent", "purge"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      DATABASE_URL: db.url,
      RETENTION_DAYS: "10",
    },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) =>
    child.once("exit", resolve),
  );
  expect(code, output).toBe(0);
  expect(output).toMatch(/RETENTION_DAYS=10/);
  expect(output).toMatch(/message: 1\n/);
  expect(output).toMatch(/request_record: 0\n/);
  const { rows } = await db.pool.query<{ dedup_key: string }>(
    "SELECT dedup_key FROM message",
  );
  expect(rows.map((row) => row.dedup_key)).toEqual(["cli-new"]);
});

test("server purges shortly after boot", async () => {
  // Ages are relative to the real clock because the server uses it.
  const now = new Date();
  await seed(2, 3, "boot-old", now);
  await seed(2, 0.5, "boot-new", now);
  const server = await startServer({
    DATABASE_URL: db.url,
    RETENTION_DAYS: "1",
  });
  try {
    const line = await waitFor(
      async () =>
        server.output.find((entry) =>
          entry.includes("retention purge finished"),
        ),
      15_000,
    );
    expect(JSON.parse(line).deleted.message).toBe(2);
    const { rows } = await db.pool.query<{ dedup_key: string }>(
      "SELECT dedup_key FROM message ORDER BY dedup_key",
    );
    expect(rows.map((row) => row.dedup_key)).toEqual([
      "boot-new-0",
      "boot-new-1",
    ]);
  } finally {
    await server.stop();
  }
});
