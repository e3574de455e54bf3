import { z } from "zod";

/**
 * Keyset (cursor) pagination over (received_at DESC, id DESC). A cursor is
 * the position of one row, written `<ISO time>~<id>` so a link stays
 * readable. "Older" continues after the last row shown, "Newer" before the
 * first one.
 */
export interface Cursor {
  receivedAt: Date;
  id: string;
}

export type PageDirection = "older" | "newer";

export interface PageRequest {
  cursor: Cursor | null;
  direction: PageDirection;
  pageSize: number;
}

export interface Page<Row> {
  rows: Row[];
  /** Cursor for the next page of older rows, null when there is none. */
  olderCursor: string | null;
  /** Cursor for the page of newer rows, null on the newest page. */
  newerCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * An invalid URL query parameter. parseQuery turns it into a 400 response
 * whose text names the parameter and the fix.
 */
export class InvalidQueryError extends Error {
  constructor(
    public readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidQueryError";
  }
}

export function encodeCursor(cursor: Cursor): string {
  return `${cursor.receivedAt.toISOString()}~${cursor.id}`;
}

/**
 * Parses a cursor. `idPattern` checks the id part (a UUID for messages, a
 * bigint for request records).
 */
export function decodeCursor(
  parameter: string,
  value: string,
  idPattern: RegExp,
): Cursor {
  const [time, id, ...rest] = value.split("~");
  const receivedAt = new Date(time ?? "");
  if (
    rest.length > 0 ||
    id === undefined ||
    !idPattern.test(id) ||
    !z.iso.datetime().safeParse(time).success ||
    Number.isNaN(receivedAt.getTime())
  ) {
    throw new InvalidQueryError(
      parameter,
      `${parameter} is not a valid page cursor. Use the Older and Newer links, or remove ${parameter} from the URL to start at the newest rows.`,
    );
  }
  return { receivedAt, id };
}

export const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const BIGINT_ID_PATTERN = /^[1-9]\d{0,18}$/;

/**
 * Reads `before` (older than) or `after` (newer than) from the URL. Both at
 * once is rejected because the two directions contradict each other.
 */
export function parsePageRequest(
  params: URLSearchParams,
  idPattern: RegExp,
  pageSize = DEFAULT_PAGE_SIZE,
): PageRequest {
  const before = params.get("before");
  const after = params.get("after");
  if (before && after) {
    throw new InvalidQueryError(
      "before",
      "before and after cannot be used together. Keep one of them.",
    );
  }
  if (before) {
    return {
      cursor: decodeCursor("before", before, idPattern),
      direction: "older",
      pageSize,
    };
  }
  if (after) {
    return {
      cursor: decodeCursor("after", after, idPattern),
      direction: "newer",
      pageSize,
    };
  }
  return { cursor: null, direction: "older", pageSize };
}

/**
 * Builds the SQL fragments of a keyset query on the columns `time` and `id`.
 * `nextParam` is the number of the first free bind parameter. The caller
 * selects with `WHERE <where> ORDER BY <orderBy> LIMIT <limit>`, then passes
 * the rows to `toPage`, which restores newest-first order.
 */
export function keysetClause(
  page: PageRequest,
  columns: { time: string; id: string; idType: "uuid" | "bigint" },
  nextParam: number,
): { where: string; orderBy: string; values: unknown[]; limit: number } {
  const limit = page.pageSize + 1;
  const older = page.direction === "older";
  const orderBy = older
    ? `${columns.time} DESC, ${columns.id} DESC`
    : `${columns.time} ASC, ${columns.id} ASC`;
  if (!page.cursor) return { where: "true", orderBy, values: [], limit };
  // A row comparison matches the (time, id) index order, so PostgreSQL
  // starts the index scan at the cursor.
  const operator = older ? "<" : ">";
  return {
    where: `(${columns.time}, ${columns.id}) ${operator} ($${nextParam}::timestamptz, $${nextParam + 1}::${columns.idType})`,
    orderBy,
    values: [page.cursor.receivedAt, page.cursor.id],
    limit,
  };
}

/** Trims the extra row, orders newest first and builds both cursors. */
export function toPage<Row extends { id: string; receivedAt: Date }>(
  page: PageRequest,
  fetched: Row[],
): Page<Row> {
  const hasMore = fetched.length > page.pageSize;
  const rows = fetched.slice(0, page.pageSize);
  if (page.direction === "newer") rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];

  // A page reached through a cursor has rows on the side it came from. The
  // exception is rows deleted since, and the Pager then offers "Newest".
  const hasOlder = page.direction === "older" ? hasMore : page.cursor !== null;
  const hasNewer = page.direction === "newer" ? hasMore : page.cursor !== null;
  return {
    rows,
    olderCursor: hasOlder && last ? encodeCursor(last) : null,
    newerCursor: hasNewer && first ? encodeCursor(first) : null,
  };
}

/** Escapes %, _ and \ so `text` matches literally inside ILIKE. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
