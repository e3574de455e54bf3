import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";

// request_stats_hour is kept by triggers on request_stats_minute. After any
// write, it must equal the minute rows summed per hour.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("stats_hour");
});

afterAll(async () => {
  await db?.drop();
});

interface HourRow {
  bucket: string;
  channel: string;
  minutes: number;
  total: number;
  rejected: number;
  latency_sum_ms: number;
  latency_hist: number[];
}

async function readHours(): Promise<HourRow[]> {
  const { rows } = await db.pool.query<HourRow>(
    `SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS bucket,
       channel, minutes, total::int, rejected::int, latency_sum_ms,
       latency_hist::int[]
     FROM request_stats_hour ORDER BY bucket, channel`,
  );
  return rows;
}

/** The minute rows summed per hour the slow way, as the triggers should. */
async function sumMinutes(): Promise<HourRow[]> {
  const { rows } = await db.pool.query<HourRow>(
    `WITH m AS (
       SELECT date_trunc('hour', bucket AT TIME ZONE 'UTC') AS hour, *
       FROM request_stats_minute
     ),
     positions AS (
       SELECT hour, channel, idx, sum(n)::int AS n
       FROM m, unnest(latency_hist) WITH ORDINALITY AS u(n, idx)
       GROUP BY hour, channel, idx
     )
     SELECT to_char(m.hour, 'YYYY-MM-DD HH24:MI') AS bucket, m.channel,
       count(*)::int AS minutes, sum(total)::int AS total,
       sum(rejected)::int AS rejected, sum(latency_sum_ms) AS latency_sum_ms,
       (SELECT array_agg(p.n ORDER BY p.idx) FROM positions p
        WHERE p.hour = m.hour AND p.channel = m.channel) AS latency_hist
     FROM m
     GROUP BY m.hour, m.channel
     ORDER BY 1, 2`,
  );
  return rows;
}

function histogram(position: number, count: number): number[] {
  const hist = new Array<number>(64).fill(0);
  hist[position] = count;
  return hist;
}

async function insertMinute(
  bucket: string,
  channel: string,
  total: number,
  position: number,
) {
  await db.pool.query(
    `INSERT INTO request_stats_minute AS s (bucket, channel, total, accepted,
       duplicate, rejected, latency_sum_ms, latency_hist)
     VALUES ($1, $2, $3::int, $3::int, 0, 0, $3::int * 2.5, $4)
     ON CONFLICT (bucket, channel) DO UPDATE SET
       total = s.total + EXCLUDED.total,
       accepted = s.accepted + EXCLUDED.accepted,
       latency_sum_ms = s.latency_sum_ms + EXCLUDED.latency_sum_ms,
       latency_hist = ARRAY(SELECT a + b
         FROM unnest(s.latency_hist, EXCLUDED.latency_hist) AS u(a, b))`,
    [bucket, channel, total, histogram(position, total)],
  );
}

test("hour rows sum inserted minutes", async () => {
  await insertMinute("2026-11-02T10:05:00Z", "sms", 3, 4);
  await insertMinute("2026-11-02T10:59:00Z", "sms", 2, 9);
  await insertMinute("2026-11-02T11:00:00Z", "sms", 1, 9);
  await insertMinute("2026-11-02T10:30:00Z", "email", 5, 20);

  const hours = await readHours();
  expect(hours).toEqual(await sumMinutes());
  expect(hours).toHaveLength(3);
  expect(hours[1]).toMatchObject({
    bucket: "2026-11-02 10:00",
    channel: "sms",
    minutes: 2,
    total: 5,
    latency_sum_ms: 12.5,
  });
  expect(hours[1]!.latency_hist[4]).toBe(3);
  expect(hours[1]!.latency_hist[9]).toBe(2);
});

test("hour rows follow minute upserts", async () => {
  await insertMinute("2026-11-02T10:05:00Z", "sms", 4, 9);

  const hours = await readHours();
  expect(hours).toEqual(await sumMinutes());
  const sms = hours.find(
    (row) => row.bucket === "2026-11-02 10:00" && row.channel === "sms",
  );
  expect(sms?.minutes).toBe(2);
  expect(sms?.total).toBe(9);
  expect(sms?.latency_hist[9]).toBe(6);
});

test("hour rows follow updates across hours", async () => {
  await db.pool.query(
    `UPDATE request_stats_minute SET bucket = bucket + interval '1 hour',
       rejected = 1
     WHERE bucket = '2026-11-02T10:59:00Z'`,
  );

  const hours = await readHours();
  expect(hours).toEqual(await sumMinutes());
  const eleven = hours.find(
    (row) => row.bucket === "2026-11-02 11:00" && row.channel === "sms",
  );
  expect(eleven?.minutes).toBe(2);
  expect(eleven?.rejected).toBe(1);
});

test("hour rows vanish with their minutes", async () => {
  await db.pool.query(
    "DELETE FROM request_stats_minute WHERE channel = 'email'",
  );

  const hours = await readHours();
  expect(hours).toEqual(await sumMinutes());
  expect(hours.map((row) => row.channel)).not.toContain("email");
});

test("hour rows clear on truncate", async () => {
  await insertMinute("2026-11-03T08:00:00Z", "sms", 2, 5);
  expect(await readHours()).not.toEqual([]);

  await db.pool.query("TRUNCATE request_stats_minute");

  expect(await readHours()).toEqual([]);
});
