import type pg from "pg";
import {
  DEFAULT_PAGE_SIZE,
  type Cursor,
  type PageRequest,
} from "~/dashboard/keyset.server";
import type { ChannelFilter, LatencyRange } from "~/dashboard/latency";
import { queryLatencyCharts } from "~/dashboard/latency.server";
import { getMessageDetail } from "~/dashboard/message-detail.server";
import {
  listMessages,
  listProviders,
  newestMessages,
  type MessageFilters,
} from "~/dashboard/messages.server";
import { listDuplicates, listFailures } from "~/dashboard/requests.server";
import { channelStats } from "~/dashboard/stats.server";
import type { Channel } from "~/ingest/message";

/** Server-time goals, in milliseconds, for the p95 of a case. */
export const TARGETS_MS = {
  page: 50,
  search: 100,
  chart: 150,
} as const;

export type TargetKind = keyof typeof TARGETS_MS;

/**
 * Values taken from the seeded data that the cases query for: an existing
 * sender and recipient, a cursor deep in history, a message with duplicates.
 */
export interface CaseFixture {
  now: Date;
  /** The sender of the newest email. */
  sender: string;
  /** The phone number of an SMS received more than five days ago. */
  oldSender: string;
  /** The first 8 characters of the oldest phone number, such as "+1415099". */
  senderPart: string;
  recipient: string;
  /** A word pair from text_preview, such as "order 4242". */
  text: string;
  provider: string;
  /** The newest message received more than six days before `now`. */
  deepCursor: Cursor;
  rangeFrom: Date;
  rangeTo: Date;
  /** A message that at least one duplicate request points at. */
  detailId: string;
}

/** One dashboard query, called as its loader calls it. */
export interface DashboardCase {
  name: string;
  target: TargetKind | null;
  run: (pool: pg.Pool) => Promise<unknown>;
}

const DAY_MS = 86_400_000;

/** Reads the fixture values from a seeded database. */
export async function readCaseFixture(
  pool: pg.Pool,
  now: Date,
): Promise<CaseFixture> {
  const newest = await pool.query<{
    sender: string;
    recipient: string;
    provider: string;
    text_preview: string;
  }>(
    `SELECT sender, recipient, provider, text_preview FROM message
     WHERE channel = 'email' ORDER BY received_at DESC, id DESC LIMIT 1`,
  );
  const oldSms = await pool.query<{ sender: string }>(
    `SELECT sender FROM message WHERE channel = 'sms' AND received_at < $1
     ORDER BY received_at DESC, id DESC LIMIT 1`,
    [new Date(now.getTime() - 5 * DAY_MS)],
  );

  const oldestSms = await pool.query<{ sender: string }>(
    `SELECT sender FROM message WHERE channel = 'sms'
     ORDER BY received_at, id LIMIT 1`,
  );
  const deep = await pool.query<{ received_at: Date; id: string }>(
    `SELECT received_at, id FROM message WHERE received_at < $1
     ORDER BY received_at DESC, id DESC LIMIT 1`,
    [new Date(now.getTime() - 6 * DAY_MS)],
  );
  const duplicate = await pool.query<{ duplicate_of_id: string }>(
    `SELECT duplicate_of_id FROM request_record
     WHERE outcome = 'duplicate' AND duplicate_of_id IS NOT NULL
     ORDER BY received_at DESC, id DESC LIMIT 1`,
  );

  const message = newest.rows[0];
  const deepRow = deep.rows[0];
  const detail = duplicate.rows[0];
  const oldSender = oldSms.rows[0]?.sender;
  const oldestSender = oldestSms.rows[0]?.sender;
  if (!message || !deepRow || !detail || !oldSender || !oldestSender) {
    throw new Error(
      "The database lacks an email, an SMS older than five days, a message older than six days or a duplicate request record. Seed it with bench/seed-scale.sql first.",
    );
  }

  const orderWords = /order \d+/.exec(message.text_preview);
  return {
    now,
    sender: message.sender,
    oldSender,
    senderPart: oldestSender.slice(0, 8),
    recipient: message.recipient,
    text: orderWords ? orderWords[0] : message.text_preview.slice(0, 12),
    provider: message.provider,
    deepCursor: { receivedAt: deepRow.received_at, id: deepRow.id },
    rangeFrom: new Date(now.getTime() - 3 * DAY_MS),
    rangeTo: new Date(now.getTime() - 2 * DAY_MS),
    detailId: detail.duplicate_of_id,
  };
}

const NO_FILTERS: MessageFilters = {
  channel: null,
  provider: null,
  from: null,
  to: null,
  q: null,
};

const FIRST_PAGE: PageRequest = {
  cursor: null,
  direction: "older",
  pageSize: DEFAULT_PAGE_SIZE,
};

/** Builds the calls of the messages loader: a log page and the providers. */
function messageLog(
  filters: Partial<MessageFilters>,
  page: PageRequest = FIRST_PAGE,
): DashboardCase["run"] {
  return async (pool) => {
    const [messages, providers] = await Promise.all([
      listMessages(pool, { ...NO_FILTERS, ...filters }, page),
      listProviders(pool),
    ]);
    return { messages, providers };
  };
}

/** Builds the call of the latency loader for one range and channel. */
function latencyChart(
  range: LatencyRange,
  channel: ChannelFilter,
  now: Date,
): DashboardCase["run"] {
  return (pool) => queryLatencyCharts(pool, { range, channel, now });
}

const CHANNEL_CASES: Channel[] = ["email", "whatsapp", "sms"];

/** Lists the measured cases, each calling the query functions of a loader. */
export function dashboardCases(fixture: CaseFixture): DashboardCase[] {
  const { now } = fixture;
  return [
    { name: "message log, first page", target: "page", run: messageLog({}) },
    {
      name: "message log, page from 6 days ago",
      target: "page",
      run: messageLog(
        {},
        { ...FIRST_PAGE, cursor: fixture.deepCursor, direction: "older" },
      ),
    },
    ...CHANNEL_CASES.map((channel): DashboardCase => ({
      name: `message log, channel ${channel}`,
      target: "page",
      run: messageLog({ channel }),
    })),
    {
      name: `message log, provider ${fixture.provider}`,
      target: "page",
      run: messageLog({ provider: fixture.provider }),
    },
    {
      name: "message log, one-day date range",
      target: "page",
      run: messageLog({ from: fixture.rangeFrom, to: fixture.rangeTo }),
    },
    {
      name: "search by whole sender, newest email",
      target: "search",
      run: messageLog({ q: fixture.sender }),
    },
    {
      name: "search by whole sender, SMS from 5 days ago",
      target: "search",
      run: messageLog({ q: fixture.oldSender }),
    },
    {
      name: "search by part of the oldest sender",
      target: "search",
      run: messageLog({ q: fixture.senderPart }),
    },
    {
      name: "search by recipient",
      target: "search",
      run: messageLog({ q: fixture.recipient }),
    },
    {
      name: "search by text",
      target: null,
      run: messageLog({ q: fixture.text }),
    },
    ...(["1h", "24h", "7d"] as const).flatMap((range): DashboardCase[] => [
      {
        name: `latency ${range}, all channels`,
        target: range === "1h" ? null : "chart",
        run: latencyChart(range, "all", now),
      },
      {
        name: `latency ${range}, channel sms`,
        target: range === "1h" ? null : "chart",
        run: latencyChart(range, "sms", now),
      },
    ]),
    {
      name: "overview",
      target: null,
      run: async (pool) => {
        const [stats, newest] = await Promise.all([
          channelStats(pool, now),
          newestMessages(pool, 8),
        ]);
        return { stats, newest };
      },
    },
    {
      name: "duplicates, first page",
      target: null,
      run: async (pool) => {
        const [duplicates, stats] = await Promise.all([
          listDuplicates(pool, FIRST_PAGE),
          channelStats(pool, now),
        ]);
        return { duplicates, stats };
      },
    },
    {
      name: "failures, first page",
      target: null,
      run: (pool) => listFailures(pool, null, FIRST_PAGE),
    },
    {
      name: "message detail",
      target: null,
      run: (pool) => getMessageDetail(pool, fixture.detailId),
    },
  ];
}

/** Server-time percentiles of one case, in milliseconds. */
export interface CaseTiming {
  name: string;
  target: TargetKind | null;
  p50: number;
  p95: number;
  max: number;
  /** True or false against the target, null for a case without one. */
  passed: boolean | null;
}

/** Nearest-rank percentile of sorted durations. */
function percentile(sorted: number[], quantile: number): number {
  const rank = Math.max(1, Math.ceil(quantile * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Runs `dashboardCase` `warmups` times unmeasured, then `iterations` times
 * one after another, and returns the percentiles of the measured runs.
 */
export async function measureCase(
  pool: pg.Pool,
  dashboardCase: DashboardCase,
  options: { warmups: number; iterations: number },
): Promise<CaseTiming> {
  for (let run = 0; run < options.warmups; run++) {
    await dashboardCase.run(pool);
  }
  const durations: number[] = [];
  for (let run = 0; run < options.iterations; run++) {
    const started = performance.now();
    await dashboardCase.run(pool);
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const p95 = percentile(durations, 0.95);
  return {
    name: dashboardCase.name,
    target: dashboardCase.target,
    p50: percentile(durations, 0.5),
    p95,
    max: durations[durations.length - 1]!,
    passed:
      dashboardCase.target === null
        ? null
        : p95 < TARGETS_MS[dashboardCase.target],
  };
}
