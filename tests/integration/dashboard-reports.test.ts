import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import {
  BIGINT_ID_PATTERN,
  parsePageRequest,
  type PageRequest,
} from "../../app/dashboard/keyset.server";
import {
  listDuplicates,
  listFailures,
  parseFailureOutcome,
} from "../../app/dashboard/requests.server";
import { channelStats } from "../../app/dashboard/stats.server";
import { FAILURE_OUTCOMES } from "../../app/dashboard/constants";
import { LATENCY_BUCKET_COUNT } from "../../app/ingest/latency-histogram";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { insertMessage, insertRequestRecord } from "../support/dashboard-rows";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("dash_reports");
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query(
    "TRUNCATE message, request_record, status_event, request_stats_minute",
  );
});

const NOW = new Date("2026-12-04T12:00:00.000Z");
const minutesAgo = (minutes: number) =>
  new Date(NOW.getTime() - minutes * 60_000);

function firstPage(pageSize: number): PageRequest {
  return { cursor: null, direction: "older", pageSize };
}

function pageFrom(query: string, pageSize: number): PageRequest {
  return parsePageRequest(
    new URLSearchParams(query),
    BIGINT_ID_PATTERN,
    pageSize,
  );
}

async function insertStats(
  bucket: Date,
  channel: string,
  counts: { accepted: number; duplicate: number; rejected: number },
  histogram: Record<number, number>,
) {
  const hist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const [index, count] of Object.entries(histogram))
    hist[Number(index)] = count;
  await db.pool.query(
    `INSERT INTO request_stats_minute (bucket, channel, total, accepted,
       duplicate, rejected, latency_sum_ms, latency_hist)
     VALUES ($1, $2, $3, $4, $5, $6, 0, $7)`,
    [
      bucket,
      channel,
      counts.accepted + counts.duplicate + counts.rejected,
      counts.accepted,
      counts.duplicate,
      counts.rejected,
      hist,
    ],
  );
}

test("listFailures excludes successful outcomes", async () => {
  for (const outcome of ["accepted", "duplicate", "status_event", "verified"])
    await insertRequestRecord(db.pool, {
      receivedAt: minutesAgo(1),
      outcome,
      status: 200,
    });
  const invalid = await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(2),
    outcome: "invalid",
    status: 400,
    errorMessage: "Body is not valid UTF-8 JSON",
    excerpt: "<script>alert(1)</script>",
  });
  const unauthorized = await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(3),
    outcome: "unauthorized",
    status: 401,
  });

  const page = await listFailures(db.pool, null, firstPage(10));
  expect(page.rows.map((row) => row.id)).toEqual([invalid, unauthorized]);
  expect(page.rows[0].errorMessage).toBe("Body is not valid UTF-8 JSON");
  expect(page.rows[0].excerpt).toBe("<script>alert(1)</script>");
  expect(page.rows[0].status).toBe(400);
});

test("listFailures filters by outcome", async () => {
  await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(1),
    outcome: "invalid",
    status: 400,
  });
  const tooLarge = await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(2),
    outcome: "too_large",
    status: 413,
  });
  const page = await listFailures(db.pool, "too_large", firstPage(10));
  expect(page.rows.map((row) => row.id)).toEqual([tooLarge]);
});

test("listFailures pages across equal times", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push(
      await insertRequestRecord(db.pool, {
        receivedAt: minutesAgo(1),
        outcome: "invalid",
        status: 400,
      }),
    );
  const first = await listFailures(db.pool, null, firstPage(2));
  const second = await listFailures(
    db.pool,
    null,
    pageFrom(`before=${first.olderCursor}`, 2),
  );
  const third = await listFailures(
    db.pool,
    null,
    pageFrom(`before=${second.olderCursor}`, 2),
  );
  const seen = [...first.rows, ...second.rows, ...third.rows].map(
    (row) => row.id,
  );
  // Equal times fall back to the id, newest (highest) first.
  expect(seen).toEqual([...ids].reverse());
  expect(third.olderCursor).toBeNull();
});

test("parseFailureOutcome accepts only failures", () => {
  expect(parseFailureOutcome(new URLSearchParams("outcome=invalid"))).toBe(
    "invalid",
  );
  expect(parseFailureOutcome(new URLSearchParams("outcome="))).toBeNull();
  expect(() =>
    parseFailureOutcome(new URLSearchParams("outcome=accepted")),
  ).toThrow(/outcome must be one of/);
});

test("FAILURE_OUTCOMES lists every rejection", () => {
  expect([...FAILURE_OUTCOMES].sort()).toEqual(
    [
      "invalid",
      "unsupported_media_type",
      "too_large",
      "method_not_allowed",
      "not_found",
      "unauthorized",
      "forbidden",
      "rate_limited",
      "not_configured",
      "unavailable",
      "error",
    ].sort(),
  );
});

test("listDuplicates links the original", async () => {
  const original = await insertMessage(db.pool, {
    channel: "email",
    subject: "Order 1042",
    receivedAt: minutesAgo(90),
  });
  const duplicate = await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(30),
    outcome: "duplicate",
    status: 409,
    channel: "email",
    duplicateOfId: original,
  });
  await insertRequestRecord(db.pool, {
    receivedAt: minutesAgo(90),
    outcome: "accepted",
    status: 201,
    messageId: original,
  });

  const page = await listDuplicates(db.pool, firstPage(10));
  expect(page.rows).toHaveLength(1);
  const row = page.rows[0];
  expect(row.id).toBe(duplicate);
  expect(row.duplicateOfId).toBe(original);
  expect(row.subject).toBe("Order 1042");
  expect(row.sinceOriginalMs).toBe(60 * 60_000);
  expect(row.originalReceivedAt?.toISOString()).toBe(
    minutesAgo(90).toISOString(),
  );
});

test("listDuplicates pages newest first", async () => {
  const original = await insertMessage(db.pool, { receivedAt: minutesAgo(60) });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(
      await insertRequestRecord(db.pool, {
        receivedAt: minutesAgo(10 - i),
        outcome: "duplicate",
        status: 409,
        duplicateOfId: original,
      }),
    );
  const first = await listDuplicates(db.pool, firstPage(2));
  const second = await listDuplicates(
    db.pool,
    pageFrom(`before=${first.olderCursor}`, 2),
  );
  expect(first.rows.map((row) => row.id)).toEqual([ids[2], ids[1]]);
  expect(second.rows.map((row) => row.id)).toEqual([ids[0]]);
  expect(second.olderCursor).toBeNull();
});

test("channelStats sums the last 24 hours", async () => {
  await insertStats(
    minutesAgo(10),
    "sms",
    { accepted: 6, duplicate: 2, rejected: 1 },
    { 10: 9 },
  );
  await insertStats(
    minutesAgo(60 * 23),
    "sms",
    { accepted: 2, duplicate: 0, rejected: 3 },
    { 20: 5 },
  );
  // Older than the window: not counted.
  await insertStats(
    minutesAgo(60 * 25),
    "sms",
    { accepted: 100, duplicate: 100, rejected: 100 },
    { 30: 300 },
  );
  await insertStats(
    minutesAgo(5),
    "email",
    { accepted: 4, duplicate: 0, rejected: 0 },
    { 5: 4 },
  );

  const stats = await channelStats(db.pool, NOW);
  expect(stats.map((row) => row.channel)).toEqual(["email", "sms"]);
  const sms = stats[1];
  expect(sms.accepted).toBe(8);
  expect(sms.duplicate).toBe(2);
  expect(sms.rejected).toBe(4);
  expect(sms.total).toBe(14);
  expect(sms.duplicateRate).toBeCloseTo(0.2);
  const email = stats[0];
  expect(email.duplicateRate).toBe(0);
});

test("channelStats reads percentiles from histograms", async () => {
  // 90 fast requests in bucket 10 and 10 slow ones in bucket 30.
  await insertStats(
    minutesAgo(1),
    "whatsapp",
    { accepted: 100, duplicate: 0, rejected: 0 },
    { 10: 60, 30: 4 },
  );
  await insertStats(
    minutesAgo(2),
    "whatsapp",
    { accepted: 0, duplicate: 0, rejected: 0 },
    { 10: 30, 30: 6 },
  );
  const [whatsapp] = await channelStats(db.pool, NOW);
  const bound = (index: number) => 0.1 * 1.25 ** index;
  expect(whatsapp.latencyP50Ms).toBeCloseTo(bound(10));
  expect(whatsapp.latencyP95Ms).toBeCloseTo(bound(30));
  expect(whatsapp.latencyP99Ms).toBeCloseTo(bound(30));
});

test("channelStats is empty without traffic", async () => {
  expect(await channelStats(db.pool, NOW)).toEqual([]);
});
