import { afterAll, beforeAll, expect, test } from "vitest";
import { seedDatabase, type SeedResult } from "../../app/dashboard/seed.server";
import { channelStats } from "../../app/dashboard/stats.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;
let result: SeedResult;
const NOW = new Date("2026-12-04T12:00:00.000Z");
const COUNT = 2500;

beforeAll(async () => {
  db = await createTestDatabase("dash_seed");
  // More than one batch, so the batch arithmetic is covered.
  result = await seedDatabase(db.pool, { count: COUNT, now: NOW });
});

afterAll(async () => {
  await db?.drop();
});

async function count(sql: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(sql);
  return Number(rows[0].n);
}

test("seed stores the requested message count", async () => {
  expect(result.messages).toBe(COUNT);
  expect(await count("SELECT count(*) AS n FROM message")).toBe(COUNT);
});

test("seed writes one accepted record per message", async () => {
  expect(
    await count(
      "SELECT count(*) AS n FROM request_record WHERE outcome = 'accepted'",
    ),
  ).toBe(COUNT);
  expect(
    await count(
      `SELECT count(*) AS n FROM message m WHERE NOT EXISTS (
         SELECT 1 FROM request_record r WHERE r.message_id = m.id)`,
    ),
  ).toBe(0);
});

test("seed duplicate counts match records", async () => {
  expect(result.duplicates).toBeGreaterThan(0);
  expect(
    await count(
      "SELECT count(*) AS n FROM request_record WHERE outcome = 'duplicate'",
    ),
  ).toBe(result.duplicates);
  expect(
    await count(
      "SELECT count(*) AS n FROM request_record r JOIN message m ON m.id = r.duplicate_of_id",
    ),
  ).toBe(result.duplicates);
});

test("seed failures use rejection outcomes", async () => {
  expect(result.failures).toBe(Math.round(COUNT * 0.06));
  expect(
    await count(
      `SELECT count(*) AS n FROM request_record WHERE outcome NOT IN
         ('accepted', 'duplicate', 'status_event', 'verified')`,
    ),
  ).toBe(result.failures);
  expect(
    await count(
      `SELECT count(*) AS n FROM request_record WHERE outcome NOT IN
         ('accepted', 'duplicate', 'status_event', 'verified')
         AND error_message IS NULL`,
    ),
  ).toBe(0);
});

test("seed stats match request records", async () => {
  expect(await count("SELECT count(*) AS n FROM request_record")).toBe(
    result.requestRecords,
  );
  expect(await count("SELECT sum(total) AS n FROM request_stats_minute")).toBe(
    result.requestRecords,
  );
  expect(
    await count("SELECT sum(accepted) AS n FROM request_stats_minute"),
  ).toBe(COUNT);
  expect(
    await count("SELECT sum(duplicate) AS n FROM request_stats_minute"),
  ).toBe(result.duplicates);
  expect(
    await count("SELECT sum(rejected) AS n FROM request_stats_minute"),
  ).toBe(result.failures);
  expect(
    await count(
      `SELECT sum(h) AS n FROM request_stats_minute, unnest(latency_hist) AS h`,
    ),
  ).toBe(result.requestRecords);
});

test("seed covers channels and providers", async () => {
  const { rows } = await db.pool.query<{ channel: string; providers: string }>(
    `SELECT channel, count(DISTINCT provider) AS providers
     FROM message GROUP BY channel ORDER BY channel`,
  );
  expect(rows.map((row) => row.channel)).toEqual(["email", "sms", "whatsapp"]);
  for (const row of rows) expect(Number(row.providers)).toBeGreaterThan(1);
});

test("seed spreads messages over 7 days", async () => {
  const { rows } = await db.pool.query<{ oldest: Date; newest: Date }>(
    "SELECT min(received_at) AS oldest, max(received_at) AS newest FROM message",
  );
  expect(rows[0].newest.getTime()).toBeLessThanOrEqual(NOW.getTime());
  expect(rows[0].oldest.getTime()).toBeGreaterThanOrEqual(
    NOW.getTime() - 7 * 86_400_000,
  );
  expect(rows[0].oldest.getTime()).toBeLessThan(NOW.getTime() - 5 * 86_400_000);
});

test("seed status events reference messages", async () => {
  expect(await count("SELECT count(*) AS n FROM status_event")).toBe(
    result.statusEvents,
  );
  expect(
    await count(
      `SELECT count(*) AS n FROM status_event s
       LEFT JOIN message m ON m.id = s.message_id WHERE m.id IS NULL`,
    ),
  ).toBe(0);
});

test("seeded overview counts agree", async () => {
  // The window covers whole minutes: those whose bucket starts after NOW - 24 h.
  const stats = await channelStats(db.pool, NOW);
  const accepted = stats.reduce((sum, row) => sum + row.accepted, 0);
  expect(accepted).toBe(
    await count(
      `SELECT count(*) AS n FROM request_record WHERE outcome = 'accepted'
         AND date_trunc('minute', received_at) > '2026-12-03T12:00:00Z'`,
    ),
  );
});
