import type pg from "pg";
import { TEXT_PREVIEW_LENGTH, type NormalizedMessage } from "./message";

export interface StoreResult {
  /** True when this call stored the message; false for a duplicate. */
  inserted: boolean;
  /** The stored message, or for a duplicate the original. */
  id: string;
  receivedAt: Date;
}

/**
 * The dedup decision in one statement. The unique index on
 * (channel, dedup_key) lets exactly one concurrent insert win; every other
 * one waits for it, then takes the DO UPDATE branch, which counts the
 * duplicate on the original and returns the original's id. `xmax = 0` holds
 * only for a freshly inserted row, so it tells the two cases apart without
 * an exception.
 *
 * A content-hash key only counts as a duplicate within the window ($15):
 * outside it the WHERE clause leaves the row alone and nothing is returned,
 * and storeMessage then releases the old key and inserts again.
 */
const UPSERT_MESSAGE = `
INSERT INTO message AS m (channel, provider, dedup_key, dedup_kind, external_id,
  sender, recipient, subject, text_preview, payload, raw_body, headers, media,
  replay_of_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (channel, dedup_key) DO UPDATE
  SET duplicate_count = m.duplicate_count + 1, last_duplicate_at = now()
  WHERE m.dedup_kind = 'id' OR m.received_at > now() - $15::double precision * interval '1 hour'
RETURNING id, received_at, (xmax = 0) AS inserted`;

/**
 * Renames the key of a content-hash message older than the window, so the
 * same content can be stored again as a new message.
 */
const RELEASE_EXPIRED_HASH = `
UPDATE message SET dedup_key = dedup_key || '#' || id::text
WHERE channel = $1 AND dedup_key = $2 AND dedup_kind = 'hash'
  AND received_at <= now() - $3::double precision * interval '1 hour'`;

interface UpsertRow {
  id: string;
  received_at: Date;
  inserted: boolean;
}

/**
 * Stores `message` unless its (channel, dedupKey) is already stored, in one
 * round trip on the common path.
 */
export async function storeMessage(
  pool: pg.Pool,
  message: NormalizedMessage,
  dedupWindowHours: number,
): Promise<StoreResult> {
  const values = [
    message.channel,
    message.provider,
    message.dedupKey,
    message.dedupKind,
    message.externalId,
    message.sender,
    message.recipient,
    message.subject,
    previewOf(message.text),
    JSON.stringify(message.payload),
    message.rawBody,
    JSON.stringify(message.headers),
    JSON.stringify(message.media),
    message.replayOfId,
    dedupWindowHours,
  ];
  // Two attempts suffice: the second runs after the expired key was released,
  // so it either inserts or meets a row stored within the window.
  for (let attempt = 0; attempt < 2; attempt++) {
    const { rows } = await pool.query<UpsertRow>({
      name: "upsert_message",
      text: UPSERT_MESSAGE,
      values,
    });
    const row = rows[0];
    if (row)
      return {
        inserted: row.inserted,
        id: row.id,
        receivedAt: row.received_at,
      };
    await pool.query({
      name: "release_expired_hash",
      text: RELEASE_EXPIRED_HASH,
      values: [message.channel, message.dedupKey, dedupWindowHours],
    });
  }
  throw new Error(
    `Message ${message.channel}/${message.dedupKey} was neither stored nor found as a duplicate`,
  );
}

function previewOf(text: string): string {
  // PostgreSQL text cannot hold NUL, which JSON and form bodies may carry.
  const clean = text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
  return clean.length > TEXT_PREVIEW_LENGTH
    ? clean.slice(0, TEXT_PREVIEW_LENGTH)
    : clean;
}
