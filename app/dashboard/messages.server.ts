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

/** Reads the message filters from URL parameters. An empty field means any. */
export function parseMessageFilters(params: URLSearchParams): MessageFilters {
  const channel = params.get("channel") || null;
  if (channel !== null && !(CHANNELS as readonly string[]).includes(channel)) {
    throw new InvalidQueryError(
      "channel",
      `channel must be one of ${CHANNELS.join(", ")}, got ${JSON.stringify(channel)}.`,
    );
  }
  const provider = params.get("provider")?.trim() || null;
  if (provider !== null && provider.length > MAX_PROVIDER_LENGTH) {
    throw new InvalidQueryError(
      "provider",
      `provider must be at most ${MAX_PROVIDER_LENGTH} characters.`,
    );
  }
  const q = params.get("q")?.trim() || null;
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
  received_at AS "receivedAt", duplicate_count AS "duplicateCount",
  replay_of_id AS "replayOfId"`;

/**
 * Returns one page of messages, newest first, reading at most one page plus
 * one row through the (received_at, id) indexes.
 */
export async function listMessages(
  pool: pg.Pool,
  filters: MessageFilters,
  page: PageRequest,
): Promise<Page<MessageRow>> {
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
  if (filters.q) {
    // Each column has a pg_trgm GIN index, so the OR becomes a BitmapOr of
    // index scans for patterns of three or more characters.
    // NOTE: a shorter pattern has no trigram, so PostgreSQL walks the time
    // index and filters. A rare one- or two-character term can read the
    // whole table before it fills a page.
    const pattern = bind(`%${escapeLike(filters.q)}%`);
    conditions.push(
      `(sender ILIKE ${pattern} OR recipient ILIKE ${pattern} OR subject ILIKE ${pattern} OR text_preview ILIKE ${pattern})`,
    );
  }
  const keyset = keysetClause(
    page,
    { time: "received_at", id: "id", idType: "uuid" },
    values.length + 1,
  );
  values.push(...keyset.values);
  conditions.push(keyset.where);

  const { rows } = await pool.query<MessageRow>(
    `SELECT ${MESSAGE_ROW_COLUMNS} FROM message
     WHERE ${conditions.join(" AND ")}
     ORDER BY ${keyset.orderBy} LIMIT ${keyset.limit}`,
    values,
  );
  return toPage(page, rows);
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
  return rows;
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
