import type pg from "pg";
import type { Channel, MediaItem, Outcome } from "~/ingest/message";
import { UUID_PATTERN } from "./keyset.server";

import { DETAIL_LIST_LIMIT } from "./constants";

export interface MessageDetail {
  id: string;
  channel: Channel;
  provider: string;
  dedupKey: string;
  dedupKind: "id" | "hash";
  externalId: string | null;
  sender: string;
  recipient: string;
  subject: string | null;
  textPreview: string;
  payload: unknown;
  headers: Record<string, string>;
  media: MediaItem[];
  receivedAt: Date;
  duplicateCount: number;
  lastDuplicateAt: Date | null;
  replayOfId: string | null;
  /** Size of the stored raw body in bytes, null when none was stored. */
  rawBodyBytes: number | null;
}

export interface StatusEventRow {
  id: string;
  status: string;
  errorCode: string | null;
  receivedAt: Date;
}

export interface ReplayRow {
  id: string;
  receivedAt: Date;
}

/** One request that carried the message: the original or a duplicate. */
export interface TimelineRow {
  id: string;
  requestId: string;
  receivedAt: Date;
  method: string;
  path: string;
  status: number;
  outcome: Outcome;
  latencyMs: number;
  /** True when this request stored the message, false for a duplicate. */
  stored: boolean;
}

export interface MessageDetailPage {
  message: MessageDetail;
  statusEvents: StatusEventRow[];
  replays: ReplayRow[];
  timeline: TimelineRow[];
}

/** Returns true when `id` has the form of a message id. */
export function isMessageId(id: string): boolean {
  return UUID_PATTERN.test(id);
}

/**
 * Loads a message with its status events, the messages replaying it and
 * every request that carried it, or null when no message has this id.
 * Each list is capped at DETAIL_LIST_LIMIT rows.
 */
export async function getMessageDetail(
  pool: pg.Pool,
  id: string,
): Promise<MessageDetailPage | null> {
  if (!isMessageId(id)) return null;
  const { rows } = await pool.query<MessageDetail>(
    `SELECT id, channel, provider, dedup_key AS "dedupKey",
       dedup_kind AS "dedupKind", external_id AS "externalId", sender,
       recipient, subject, text_preview AS "textPreview", payload, headers,
       media, received_at AS "receivedAt",
       d.n AS "duplicateCount", d.last_at AS "lastDuplicateAt",
       replay_of_id AS "replayOfId", octet_length(raw_body) AS "rawBodyBytes"
     FROM message
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS n, max(received_at) AS last_at
       FROM request_record WHERE duplicate_of_id = $1
     ) AS d
     WHERE id = $1`,
    [id],
  );
  const message = rows[0];
  if (!message) return null;

  const [statusEvents, replays, timeline] = await Promise.all([
    pool.query<StatusEventRow>(
      `SELECT id, status, error_code AS "errorCode", received_at AS "receivedAt"
       FROM status_event WHERE message_id = $1
       ORDER BY received_at, id LIMIT ${DETAIL_LIST_LIMIT}`,
      [id],
    ),
    pool.query<ReplayRow>(
      `SELECT id, received_at AS "receivedAt" FROM message
       WHERE replay_of_id = $1
       ORDER BY received_at, id LIMIT ${DETAIL_LIST_LIMIT}`,
      [id],
    ),
    // Two index scans joined by UNION ALL: an OR over the two columns would
    // not use the partial indexes on message_id and duplicate_of_id.
    pool.query<TimelineRow>(
      `SELECT * FROM (
         (SELECT id::text, request_id AS "requestId", received_at AS "receivedAt",
            method, path, status, outcome, latency_ms AS "latencyMs",
            true AS stored
          FROM request_record WHERE message_id = $1
          ORDER BY received_at, id LIMIT ${DETAIL_LIST_LIMIT})
         UNION ALL
         (SELECT id::text, request_id, received_at, method, path, status,
            outcome, latency_ms, false
          FROM request_record WHERE duplicate_of_id = $1
          ORDER BY received_at, id LIMIT ${DETAIL_LIST_LIMIT})
       ) AS timeline
       ORDER BY "receivedAt", id::bigint LIMIT ${DETAIL_LIST_LIMIT}`,
      [id],
    ),
  ]);
  return {
    message,
    statusEvents: statusEvents.rows,
    replays: replays.rows,
    timeline: timeline.rows,
  };
}
