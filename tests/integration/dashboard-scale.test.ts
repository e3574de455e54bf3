import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "../../app/dashboard/keyset.server";
import type { LatencySeries } from "../../app/dashboard/latency";
import type { MessageDetailPage } from "../../app/dashboard/message-detail.server";
import {
  listMessages,
  type MessageFilters,
  type MessageRow,
} from "../../app/dashboard/messages.server";
import type {
  DuplicateRow,
  FailureRow,
} from "../../app/dashboard/requests.server";
import type { ChannelStats } from "../../app/dashboard/stats.server";
import {
  dashboardCases,
  measureCase,
  readCaseFixture,
  type CaseFixture,
  type DashboardCase,
} from "../../bench/dashboard-cases";
import { seedScale } from "../../bench/dashboard-seed";
import { createTestDatabase, type TestDatabase } from "../support/database";

// The benchmark cases on a small seed. Each case must return the rows that
// a plain query without index tricks returns, so query rewrites made for
// speed cannot change what the dashboard shows. Timings are not asserted.

// More messages than the search scans in time order (5,000), so searches
// for old senders take the trigram index path.
const COUNTS = { messages: 12_000, records: 20_000 };
const PAGE_SIZE = 50;

let db: TestDatabase;
let fixture: CaseFixture;
let cases: DashboardCase[];

beforeAll(async () => {
  db = await createTestDatabase("scale");
  await seedScale(db.url, COUNTS);
  // The cases run at the seed's last minute, not at the wall clock: seeding
  // takes seconds, and a minute that starts meanwhile has no statistics,
  // which would drop a point from the charts.
  const { rows } = await db.pool.query<{ now: Date }>(
    `SELECT max(bucket) + interval '30 seconds' AS now
     FROM request_stats_minute`,
  );
  fixture = await readCaseFixture(db.pool, rows[0].now);
  cases = dashboardCases(fixture);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

function findCase(name: string): DashboardCase {
  const found = cases.find((dashboardCase) =>
    dashboardCase.name.startsWith(name),
  );
  if (!found) throw new Error(`no benchmark case named ${name}`);
  return found;
}

async function runCase<Result>(name: string): Promise<Result> {
  return (await findCase(name).run(db.pool)) as Result;
}

type MessageLog = { messages: Page<MessageRow>; providers: string[] };

/** Ids of the newest page of messages matching `where`, newest first. */
async function expectedMessageIds(
  where: string,
  values: unknown[] = [],
): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id FROM message WHERE ${where}
     ORDER BY received_at DESC, id DESC LIMIT ${PAGE_SIZE}`,
    values,
  );
  return rows.map((row) => row.id);
}

async function expectMessageLog(
  name: string,
  where: string,
  values: unknown[] = [],
) {
  const result = await runCase<MessageLog>(name);
  const expected = await expectedMessageIds(where, values);
  expect(expected.length).toBeGreaterThan(0);
  expect(result.messages.rows.map((row) => row.id)).toEqual(expected);
}

const NO_FILTERS: MessageFilters = {
  channel: null,
  provider: null,
  from: null,
  to: null,
  q: null,
};

const TEXT_COLUMNS_MATCH = `(sender ILIKE $1 OR recipient ILIKE $1
  OR subject ILIKE $1 OR text_preview ILIKE $1)`;

test("seed stores the requested counts", async () => {
  const { rows } = await db.pool.query<{ messages: number; records: number }>(
    `SELECT (SELECT count(*)::int FROM message) AS messages,
            (SELECT count(*)::int FROM request_record) AS records`,
  );
  expect(rows[0]!.messages).toBe(COUNTS.messages);
  expect(rows[0]!.records).toBe(COUNTS.records);
});

test("seed keeps the migrated indexes", async () => {
  const { rows } = await db.pool.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes
     WHERE tablename IN ('message', 'request_record')`,
  );
  const names = rows.map((row) => row.indexname);
  expect(names).toContain("message_sender_trgm_idx");
  expect(names).toContain("message_received_at_id_idx");
  expect(names).toContain("request_record_failure_received_at_id_idx");
});

test("message log first page", async () => {
  await expectMessageLog("message log, first page", "true");
  const result = await runCase<MessageLog>("message log, first page");
  const { rows } = await db.pool.query<{ provider: string }>(
    "SELECT DISTINCT provider FROM message ORDER BY provider",
  );
  expect(result.providers).toEqual(rows.map((row) => row.provider));
});

test("message log deep page", async () => {
  await expectMessageLog(
    "message log, page from 6 days ago",
    "(received_at, id) < ($1, $2)",
    [fixture.deepCursor.receivedAt, fixture.deepCursor.id],
  );
});

test.each(["email", "whatsapp", "sms"])(
  "message log channel %s",
  async (channel) => {
    await expectMessageLog(`message log, channel ${channel}`, "channel = $1", [
      channel,
    ]);
  },
);

test("message log provider filter", async () => {
  await expectMessageLog("message log, provider", "provider = $1", [
    fixture.provider,
  ]);
});

test("message log date range", async () => {
  await expectMessageLog(
    "message log, one-day date range",
    "received_at >= $1 AND received_at < $2",
    [fixture.rangeFrom, fixture.rangeTo],
  );
});

test.each([
  ["search by whole sender, newest", () => fixture.sender],
  ["search by whole sender, SMS", () => fixture.oldSender],
  ["search by part of the oldest sender", () => fixture.senderPart],
  ["search by recipient", () => fixture.recipient],
  ["search by text", () => fixture.text],
])("%s", async (name, term) => {
  await expectMessageLog(name, TEXT_COLUMNS_MATCH, [`%${term()}%`]);
});

test("search by whole sender finds it", async () => {
  const result = await runCase<MessageLog>("search by whole sender, newest");
  expect(result.messages.rows[0]?.sender).toBe(fixture.sender);
});

test("search by old sender finds it", async () => {
  const result = await runCase<MessageLog>("search by whole sender, SMS");
  expect(result.messages.rows.map((row) => row.sender)).toContain(
    fixture.oldSender,
  );
});

test("search newer page past scan", async () => {
  // From the oldest message, the newer matches of the oldest sender's
  // prefix lie behind more than 5,000 rows of other messages.
  const { rows } = await db.pool.query<{ received_at: Date; id: string }>(
    "SELECT received_at, id FROM message ORDER BY received_at, id LIMIT 1",
  );
  const oldest = rows[0]!;
  const page = await listMessages(
    db.pool,
    { ...NO_FILTERS, q: fixture.senderPart },
    {
      cursor: { receivedAt: oldest.received_at, id: oldest.id },
      direction: "newer",
      pageSize: PAGE_SIZE,
    },
  );
  const expected = await db.pool.query<{ id: string }>(
    `SELECT id FROM (
       SELECT id, received_at FROM message
       WHERE ${TEXT_COLUMNS_MATCH} AND (received_at, id) > ($2, $3)
       ORDER BY received_at, id LIMIT ${PAGE_SIZE}
     ) AS newer ORDER BY received_at DESC, id DESC`,
    [`%${fixture.senderPart}%`, oldest.received_at, oldest.id],
  );
  expect(expected.rows).toHaveLength(PAGE_SIZE);
  expect(page.rows.map((row) => row.id)).toEqual(
    expected.rows.map((row) => row.id),
  );
  expect(page.olderCursor).not.toBeNull();
});

test.each([
  ["1h", 60, 1],
  ["24h", 96, 15],
  ["7d", 168, 60],
] as const)("latency %s point counts", async (range, points, minutes) => {
  const all = await runCase<{
    series: LatencySeries;
    byChannel: LatencySeries | null;
  }>(`latency ${range}, all channels`);
  const sms = await runCase<{ series: LatencySeries; byChannel: null }>(
    `latency ${range}, channel sms`,
  );
  expect(all.series.points).toHaveLength(points);
  expect(all.byChannel?.points).toHaveLength(points * 3);
  expect(sms.series.points).toHaveLength(points);
  expect(sms.byChannel).toBeNull();
  // The seed writes 297 requests per minute and channel. The first bucket
  // lies wholly inside the seeded 7 days.
  expect(all.series.points[0]!.total).toBe(297 * minutes * 3);
  expect(sms.series.points[0]!.total).toBe(297 * minutes);
});

test("overview sums the last day", async () => {
  const result = await runCase<{ stats: ChannelStats[]; newest: MessageRow[] }>(
    "overview",
  );
  const { rows } = await db.pool.query<{ channel: string; total: number }>(
    `SELECT channel, sum(total)::int AS total FROM request_stats_minute
     WHERE bucket > $1::timestamptz - interval '24 hours' AND bucket <= $1
     GROUP BY channel ORDER BY channel`,
    [fixture.now],
  );
  expect(rows).toHaveLength(3);
  expect(
    result.stats.map((stats) => ({
      channel: stats.channel,
      total: stats.total,
    })),
  ).toEqual(rows);
  expect(result.newest.map((row) => row.id)).toEqual(
    (await expectedMessageIds("true")).slice(0, 8),
  );
});

test("duplicates first page", async () => {
  const result = await runCase<{ duplicates: Page<DuplicateRow> }>(
    "duplicates, first page",
  );
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id::text FROM request_record WHERE outcome = 'duplicate'
     ORDER BY received_at DESC, id DESC LIMIT ${PAGE_SIZE}`,
  );
  expect(rows).toHaveLength(PAGE_SIZE);
  expect(result.duplicates.rows.map((row) => row.id)).toEqual(
    rows.map((row) => row.id),
  );
  expect(result.duplicates.rows[0]?.sender).not.toBeNull();
});

test("failures first page", async () => {
  const result = await runCase<Page<FailureRow>>("failures, first page");
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id::text FROM request_record WHERE status >= 400
       AND outcome <> 'duplicate'
     ORDER BY received_at DESC, id DESC LIMIT ${PAGE_SIZE}`,
  );
  expect(rows).toHaveLength(PAGE_SIZE);
  expect(result.rows.map((row) => row.id)).toEqual(rows.map((row) => row.id));
});

test("message detail timeline", async () => {
  const result = await runCase<MessageDetailPage>("message detail");
  const { rows } = await db.pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM request_record
     WHERE duplicate_of_id = $1`,
    [fixture.detailId],
  );
  expect(result.message.id).toBe(fixture.detailId);
  expect(rows[0]!.count).toBeGreaterThan(0);
  expect(result.timeline.filter((row) => row.stored)).toHaveLength(1);
  expect(result.timeline.filter((row) => !row.stored)).toHaveLength(
    rows[0]!.count,
  );
});

test("measureCase orders percentiles", async () => {
  const timing = await measureCase(db.pool, findCase("overview"), {
    warmups: 1,
    iterations: 5,
  });
  expect(timing.name).toBe("overview");
  expect(timing.p50).toBeLessThanOrEqual(timing.p95);
  expect(timing.p95).toBeLessThanOrEqual(timing.max);
  expect(timing.passed).toBeNull();
});

test("search with channel past scan", async () => {
  const page = await listMessages(
    db.pool,
    { ...NO_FILTERS, channel: "sms", q: fixture.senderPart },
    { cursor: null, direction: "older", pageSize: PAGE_SIZE },
  );
  const expected = await expectedMessageIds(
    `channel = 'sms' AND ${TEXT_COLUMNS_MATCH}`,
    [`%${fixture.senderPart}%`],
  );
  expect(expected).toHaveLength(PAGE_SIZE);
  expect(page.rows.map((row) => row.id)).toEqual(expected);
});
