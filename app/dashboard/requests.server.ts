import type pg from "pg";
import { SUCCESS_OUTCOMES, type Outcome } from "~/ingest/message";
import { FAILURE_OUTCOMES } from "./constants";
import {
  InvalidQueryError,
  keysetClause,
  toPage,
  type Page,
  type PageRequest,
} from "./keyset.server";

/**
 * SQL list of the success outcomes. It must equal the list in the predicate
 * of request_record_failure_received_at_id_idx, or the index is not used.
 */
const SUCCESS_OUTCOME_SQL = SUCCESS_OUTCOMES.map(
  (outcome) => `'${outcome}'`,
).join(", ");

export interface DuplicateRow {
  /** request_record id, as text because it is a bigint. */
  id: string;
  requestId: string;
  receivedAt: Date;
  path: string;
  provider: string | null;
  channel: string | null;
  status: number;
  duplicateOfId: string | null;
  originalReceivedAt: Date | null;
  /** Milliseconds between the original and this duplicate. */
  sinceOriginalMs: number | null;
  sender: string | null;
  subject: string | null;
}

/**
 * Returns one page of requests rejected as duplicates, newest first, each
 * with the original message it repeated.
 */
export async function listDuplicates(
  pool: pg.Pool,
  page: PageRequest,
): Promise<Page<DuplicateRow>> {
  const keyset = keysetClause(
    page,
    { time: "r.received_at", id: "r.id", idType: "bigint" },
    1,
  );
  const { rows } = await pool.query<DuplicateRow>(
    `SELECT r.id::text, r.request_id AS "requestId",
       r.received_at AS "receivedAt", r.path, r.provider, r.channel, r.status,
       r.duplicate_of_id AS "duplicateOfId",
       m.received_at AS "originalReceivedAt",
       extract(epoch FROM r.received_at - m.received_at) * 1000
         AS "sinceOriginalMs",
       m.sender, m.subject
     FROM request_record r
     LEFT JOIN message m ON m.id = r.duplicate_of_id
     WHERE r.outcome = 'duplicate' AND ${keyset.where}
     ORDER BY ${keyset.orderBy} LIMIT ${keyset.limit}`,
    keyset.values,
  );
  return toPage(
    page,
    rows.map((row) => ({
      ...row,
      sinceOriginalMs:
        row.sinceOriginalMs === null ? null : Number(row.sinceOriginalMs),
    })),
  );
}

export interface FailureRow {
  id: string;
  requestId: string;
  receivedAt: Date;
  method: string;
  path: string;
  provider: string | null;
  channel: string | null;
  status: number;
  outcome: Outcome;
  errorMessage: string | null;
  excerpt: string | null;
  contentType: string | null;
  contentLength: number | null;
  latencyMs: number;
}

/** Reads the outcome filter of the failures page, null for all outcomes. */
export function parseFailureOutcome(params: URLSearchParams): Outcome | null {
  const outcome = params.get("outcome") || null;
  if (outcome === null) return null;
  if (!(FAILURE_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new InvalidQueryError(
      "outcome",
      `outcome must be one of ${FAILURE_OUTCOMES.join(", ")}, got ${JSON.stringify(outcome)}.`,
    );
  }
  return outcome as Outcome;
}

/**
 * Returns one page of rejected requests, newest first, optionally of one
 * outcome. With an outcome, PostgreSQL reads the (outcome, received_at, id)
 * index. Without one, it reads the partial index of failures.
 */
export async function listFailures(
  pool: pg.Pool,
  outcome: Outcome | null,
  page: PageRequest,
): Promise<Page<FailureRow>> {
  const values: unknown[] = [];
  const outcomeCondition =
    outcome === null
      ? `r.outcome NOT IN (${SUCCESS_OUTCOME_SQL})`
      : `r.outcome = $${values.push(outcome)}`;
  const keyset = keysetClause(
    page,
    // Qualified names, because ORDER BY id would sort the text alias.
    { time: "r.received_at", id: "r.id", idType: "bigint" },
    values.length + 1,
  );
  values.push(...keyset.values);
  const { rows } = await pool.query<FailureRow>(
    `SELECT r.id::text, r.request_id AS "requestId",
       r.received_at AS "receivedAt", r.method, r.path, r.provider, r.channel,
       r.status, r.outcome, r.error_message AS "errorMessage", r.excerpt,
       r.content_type AS "contentType", r.content_length AS "contentLength",
       r.latency_ms AS "latencyMs"
     FROM request_record r
     WHERE ${outcomeCondition} AND ${keyset.where}
     ORDER BY ${keyset.orderBy} LIMIT ${keyset.limit}`,
    values,
  );
  return toPage(page, rows);
}
