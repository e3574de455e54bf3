import type pg from "pg";
import { CHANNELS, type Channel } from "~/ingest/message";
import {
  escapeLike,
  InvalidQueryError,
  keysetClause,
  toPage,
  type Page,
  type PageRequest,
} from "./keyset.server";

/** The filters of the message log, as read from the URL. */
export interface MessageFilters {
  channel: Channel | null;
  provider: string | null;
  /** Inclusive start of the received_at range. */
  from: Date | null;
  /** Exclusive end of the received_at range. */
  to: Date | null;
  /** Text searched in sender, recipient, subject and text_preview. */
  q: string | null;
}

import { MAX_SEARCH_LENGTH } from "./constants";

const MAX_PROVIDER_LENGTH = 64;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * Parses a date filter. A plain date (YYYY-MM-DD, as sent by
 * `<input type="date">`) is midnight UTC, and as `to` it covers that whole
 * day. A full ISO timestamp is used as it is.
 */
function parseDate(name: "from" | "to", value: string | null): Date | null {
  if (!value) return null;
  const plainDate = DATE_PATTERN.test(value);
  const date = new Date(plainDate ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidQueryError(
      name,
      `${name} must be a date such as 2026-12-04 or an ISO timestamp, got ${JSON.stringify(value)}.`,
    );
  }
  return plainDate && name === "to" ? new Date(date.getTime() + DAY_MS) : date;
}

/**
 * Returns the trimmed text of parameter `name`, or null when it is empty.
 * Raises InvalidQueryError for a NUL character, which PostgreSQL text cannot
 * hold, so no stored message could match it.
 */
function textParam(params: URLSearchParams, name: string): string | null {
  const value = params.get(name)?.trim() || null;
  if (value?.includes("\u0000")) {
    throw new InvalidQueryError(
      name,
      `${name} contains a NUL character (%00), which no message can contain; remove it.`,
    );
  }
  return value;
}

/** Reads the message filters from URL parameters. An empty field means any. */
export function parseMessageFilters(params: URLSearchParams): MessageFilters {
  const channel = params.get("channel") || null;
  if (channel !== null && !(CHANNELS as readonly string[]).includes(channel)) {
    throw new InvalidQueryError(
      "channel",
      `channel must be one of ${CHANNELS.join(", ")}, got ${JSON.stringify(channel)}.`,
    );
  }
  const provider = textParam(params, "provider");
  if (provider !== null && provider.length > MAX_PROVIDER_LENGTH) {
    throw new InvalidQueryError(
      "provider",
      `provider must be at most ${MAX_PROVIDER_LENGTH} characters.`,
    );
  }
  const q = textParam(params, "q");
  if (q !== null && q.length > MAX_SEARCH_LENGTH) {
    throw new InvalidQueryError(
      "q",
      `The search text must be at most ${MAX_SEARCH_LENGTH} characters, got ${q.length}.`,
    );
  }
  const from = parseDate("from", params.get("from"));
  const to = parseDate("to", params.get("to"));
  if (from && to && from >= to) {
    throw new InvalidQueryError(
      "to",
      "to must be after from. Swap the two dates or clear one of them.",
    );
  }
  return { channel: channel as Channel | null, provider, from, to, q };
}

/** Describes the active filters in words, for the "no match" message. */
export function describeFilters(filters: MessageFilters): string[] {
  const parts: string[] = [];
  if (filters.channel) parts.push(`channel ${filters.channel}`);
  if (filters.provider) parts.push(`provider ${filters.provider}`);
  if (filters.from) parts.push(`from ${filters.from.toISOString()}`);
  if (filters.to) parts.push(`before ${filters.to.toISOString()}`);
  if (filters.q) parts.push(`text containing "${filters.q}"`);
  return parts;
}

export interface MessageRow {
  id: string;
  channel: Channel;
  provider: string;
  sender: string;
  recipient: string;
  subject: string | null;
  textPreview: string;
  receivedAt: Date;
  duplicateCount: number;
  replayOfId: string | null;
}

/** Length of the preview text sent to the message list. */
const LIST_PREVIEW_LENGTH = 160;

const MESSAGE_ROW_COLUMNS = `id, channel, provider, sender, recipient, subject,
  left(text_preview, ${LIST_PREVIEW_LENGTH}) AS "textPreview",
  received_at AS "receivedAt", 0 AS "duplicateCount",
  replay_of_id AS "replayOfId"`;

/**
 * Rows that a search reads in time order before it falls back to the
 * trigram indexes. Filtering them took about 10 ms in bench/dashboard-scale.ts,
 * and a term that matches one message in a hundred, spread evenly over
 * time, fills a page of 50 within them.
 */
const SEARCH_SCAN_ROWS = 5_000;

/** pg_trgm extracts no trigram from a pattern shorter than this. */
const MIN_TRIGRAM_PATTERN_LENGTH = 3;

/** The columns read by the search, a subset of message. */
const SEARCH_SCAN_COLUMNS = `id, channel, provider, sender, recipient,
  subject, text_preview, received_at, replay_of_id`;

/** The SQL of one message log page, split so a search can reorder it. */
interface MessageQuery {
  /** Filter and keyset conditions, without the search text. */
  conditions: string;
  /** Parameters of `conditions`. */
  values: unknown[];
  /** The search text condition on parameter values.length + 1. */
  search: string | null;
  /** The ILIKE pattern of `search`. */
  searchValue: string | null;
  orderBy: string;
  limit: number;
}

function buildMessageQuery(
  filters: MessageFilters,
  page: PageRequest,
): MessageQuery {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filters.channel) conditions.push(`channel = ${bind(filters.channel)}`);
  if (filters.provider) conditions.push(`provider = ${bind(filters.provider)}`);
  if (filters.from) conditions.push(`received_at >= ${bind(filters.from)}`);
  if (filters.to) conditions.push(`received_at < ${bind(filters.to)}`);
  const keyset = keysetClause(
    page,
    { time: "received_at", id: "id", idType: "uuid" },
    values.length + 1,
  );
  values.push(...keyset.values);
  conditions.push(keyset.where);
  // The pattern is the last parameter, so a query without the search
  // condition can bind `values` without it.
  let search: string | null = null;
  if (filters.q) {
    const pattern = `$${values.length + 1}`;
    search = `(sender ILIKE ${pattern} OR recipient ILIKE ${pattern} OR subject ILIKE ${pattern} OR text_preview ILIKE ${pattern})`;
  }
  return {
    conditions: conditions.join(" AND "),
    values,
    search,
    searchValue: filters.q ? `%${escapeLike(filters.q)}%` : null,
    orderBy: keyset.orderBy,
    limit: keyset.limit,
  };
}

/**
 * Returns one page of messages, newest first, reading at most one page plus
 * one row through the (received_at, id) indexes. A search takes more steps,
 * described at searchMessages.
 */
export async function listMessages(
  pool: pg.Pool,
  filters: MessageFilters,
  page: PageRequest,
): Promise<Page<MessageRow>> {
  const query = buildMessageQuery(filters, page);
  if (
    query.search !== null &&
    (filters.q ?? "").length >= MIN_TRIGRAM_PATTERN_LENGTH
  ) {
    const found = await searchMessages(pool, query, page);
    return toPage(page, await withDuplicateCounts(pool, found));
  }
  // NOTE: a search pattern of one or two characters has no trigram, so
  // PostgreSQL walks the time index and filters. A rare one- or
  // two-character term can read the whole table before it fills a page.
  const where = query.search
    ? `${query.conditions} AND ${query.search}`
    : query.conditions;
  const { rows } = await pool.query<MessageRow>(
    `SELECT ${MESSAGE_ROW_COLUMNS} FROM message
     WHERE ${where}
     ORDER BY ${query.orderBy} LIMIT ${query.limit}`,
    query.search ? [...query.values, query.searchValue] : query.values,
  );
  return toPage(page, await withDuplicateCounts(pool, rows));
}

/**
 * Returns the first `query.limit` messages matching a search, in page order.
 *
 * The planner cannot estimate how many rows an ILIKE '%term%' matches. When
 * it guesses "many", it walks the time index and filters, which reads the
 * whole table for a term found only in old messages (2.5 s over one million
 * messages in bench/dashboard-scale.ts). When it guesses "few", it reads
 * every match through the trigram indexes and sorts them, which is slow for
 * a common term. So the
 * search first filters the newest SEARCH_SCAN_ROWS rows in time order,
 * which fills the page for a common term. Only when that misses does it
 * read the older rows through the trigram indexes alone, where a rare term
 * has few matches to sort. The rows are the same as those of one query with
 * every condition.
 */
async function searchMessages(
  pool: pg.Pool,
  query: MessageQuery,
  page: PageRequest,
): Promise<MessageRow[]> {
  // One snapshot for all three statements, so that messages arriving in
  // between cannot move the boundary and repeat a row.
  return inReadOnlySnapshot(pool, async (client) => {
    const recent = await client.query<MessageRow>(
      `SELECT ${MESSAGE_ROW_COLUMNS} FROM (
         SELECT ${SEARCH_SCAN_COLUMNS} FROM message
         WHERE ${query.conditions}
         ORDER BY ${query.orderBy} LIMIT ${SEARCH_SCAN_ROWS}
       ) AS recent
       WHERE ${query.search}
       ORDER BY ${query.orderBy} LIMIT ${query.limit}`,
      [...query.values, query.searchValue],
    );
    if (recent.rows.length === query.limit) return recent.rows;

    // The last row scanned. Without it, the scan covered every row.
    const boundary = await client.query<{ received_at: Date; id: string }>(
      `SELECT received_at, id FROM message
       WHERE ${query.conditions}
       ORDER BY ${query.orderBy} OFFSET ${SEARCH_SCAN_ROWS - 1} LIMIT 1`,
      query.values,
    );
    const last = boundary.rows[0];
    if (!last) return recent.rows;

    // Without sequential and plain index scans, the planner reads the
    // matches through bitmap scans of the trigram indexes instead of
    // walking the time index. SET LOCAL ends with the transaction.
    await client.query(
      `SET LOCAL enable_seqscan = off;
       SET LOCAL enable_indexscan = off;
       SET LOCAL enable_indexonlyscan = off`,
    );
    const operator = page.direction === "older" ? "<" : ">";
    const next = query.values.length + 2;
    const older = await client.query<MessageRow>(
      `SELECT ${MESSAGE_ROW_COLUMNS} FROM message
       WHERE ${query.conditions} AND ${query.search}
         AND (received_at, id) ${operator} ($${next}::timestamptz, $${next + 1}::uuid)
       ORDER BY ${query.orderBy} LIMIT ${query.limit - recent.rows.length}`,
      [...query.values, query.searchValue, last.received_at, last.id],
    );
    return [...recent.rows, ...older.rows];
  });
}

/** Runs `run` in a read-only REPEATABLE READ transaction on one connection. */
async function inReadOnlySnapshot<Result>(
  pool: pg.Pool,
  run: (client: pg.PoolClient) => Promise<Result>,
): Promise<Result> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const result = await run(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      // A connection that cannot roll back is closed instead of reused.
      broken =
        rollbackError instanceof Error
          ? rollbackError
          : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Returns the newest `limit` messages. */
export async function newestMessages(
  pool: pg.Pool,
  limit: number,
): Promise<MessageRow[]> {
  const { rows } = await pool.query<MessageRow>(
    `SELECT ${MESSAGE_ROW_COLUMNS} FROM message
     ORDER BY received_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return withDuplicateCounts(pool, rows);
}

/**
 * Fills in how many duplicates of each row were rejected, counted from the
 * request records through the partial index on duplicate_of_id. Counting on
 * the message row instead would update one row per duplicate burst, and
 * every concurrent insert of that key then waits on the row's new versions.
 */
export async function withDuplicateCounts<Row extends MessageRow>(
  pool: pg.Pool,
  rows: Row[],
): Promise<Row[]> {
  if (rows.length === 0) return rows;
  const { rows: counts } = await pool.query<{ id: string; n: number }>(
    `SELECT duplicate_of_id AS id, count(*)::int AS n FROM request_record
     WHERE duplicate_of_id = ANY($1::uuid[]) GROUP BY duplicate_of_id`,
    [rows.map((row) => row.id)],
  );
  const byId = new Map(counts.map((count) => [count.id, count.n]));
  return rows.map((row) => ({ ...row, duplicateCount: byId.get(row.id) ?? 0 }));
}

/** Returns the distinct providers that stored messages, for the filter. */
export async function listProviders(pool: pg.Pool): Promise<string[]> {
  // A recursive skip scan over the (provider, received_at, id) index reads
  // one index entry per provider instead of every message.
  const { rows } = await pool.query<{ provider: string }>(`
    WITH RECURSIVE providers AS (
      (SELECT provider FROM message ORDER BY provider LIMIT 1)
      UNION ALL
      SELECT (SELECT m.provider FROM message m WHERE m.provider > p.provider
              ORDER BY m.provider LIMIT 1)
      FROM providers p WHERE p.provider IS NOT NULL
    )
    SELECT provider FROM providers WHERE provider IS NOT NULL`);
  return rows.map((row) => row.provider);
}
