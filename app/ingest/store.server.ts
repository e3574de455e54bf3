import type pg from "pg";
import { MessageBatcher } from "./batch-store.server";
import { indexableKey } from "./index-key.server";
import { previewOf, type NormalizedMessage } from "./message";

/** True for a content-hash row older than the dedup window of $15 hours. */
const EXPIRED_HASH_SQL = `(dedup_kind = 'hash'
  AND received_at <= now() - $15::double precision * interval '1 hour') AS expired`;

export interface StoreResult {
  /** True when this call stored the message; false for a duplicate. */
  inserted: boolean;
  /** The stored message, or for a duplicate the original. */
  id: string;
  receivedAt: Date;
}

/**
 * The dedup decision in one statement. The unique index on
 * (channel, dedup_key) lets exactly one concurrent insert win. For a
 * duplicate, DO NOTHING writes nothing and takes no row lock, so a burst of
 * the same message does not queue on one row. The second SELECT then returns
 * the original. Nothing is written for a duplicate: its request record,
 * written later in a batch, is what counts it.
 *
 * The SELECT runs on the statement's snapshot, so it misses an original
 * that a concurrent transaction committed after this statement started.
 * Both branches then return nothing and storeMessage looks the row up again.
 * `expired` marks a content-hash key older than the window ($15): that row is
 * no duplicate, and storeMessage releases its key and inserts again.
 *
 * Every lookup by key compares `channel COLLATE "C"`, which only the unique
 * index (built with that collation) can serve. Compared with the default
 * collation, the channel index is a candidate too, and a plan cached while
 * the table was small may keep using it: each duplicate then reads every
 * row of its channel.
 * NOTE: a plan made right after an ANALYZE of an empty message table picks a
 * sequential scan instead, and keeps it until autovacuum analyzes again.
 */
export const INSERT_MESSAGE = `
WITH inserted AS (
  INSERT INTO message (channel, provider, dedup_key, dedup_kind, external_id,
    sender, recipient, subject, text_preview, payload, raw_body, headers, media,
    replay_of_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (channel, dedup_key) DO NOTHING
  RETURNING id, received_at
)
SELECT id, received_at, true AS inserted, false AS expired FROM inserted
UNION ALL
SELECT id, received_at, false, ${EXPIRED_HASH_SQL}
FROM message
WHERE channel COLLATE "C" = $1 AND dedup_key = $3
  AND NOT EXISTS (SELECT FROM inserted)`;

/** Finds the original after a concurrent insert won the race. */
export const FIND_ORIGINAL = `
SELECT id, received_at, false AS inserted, ${EXPIRED_HASH_SQL.replaceAll("$15", "$3")}
FROM message WHERE channel COLLATE "C" = $1 AND dedup_key = $2`;

/**
 * Renames the key of a content-hash message older than the window, so the
 * same content can be stored again as a new message.
 */
export const RELEASE_EXPIRED_HASH = `
UPDATE message SET dedup_key = dedup_key || '#' || id::text
WHERE channel COLLATE "C" = $1 AND dedup_key = $2 AND dedup_kind = 'hash'
  AND received_at <= now() - $3::double precision * interval '1 hour'`;

interface StoreRow {
  id: string;
  received_at: Date;
  inserted: boolean;
  expired: boolean;
}

/** State of storeMessage per pool: the stores running by key, and the batcher. */
interface PoolStores {
  running: Map<string, Promise<StoreResult>>;
  batcher: MessageBatcher;
}

const storesByPool = new WeakMap<pg.Pool, PoolStores>();

function poolStoresOf(pool: pg.Pool): PoolStores {
  let stores = storesByPool.get(pool);
  if (!stores) {
    // At most one batch per pooled connection, because more batches would
    // only wait in the pool, each with fewer messages. One connection is
    // left for the request-record writer. Its flush uses a connection for
    // 10 to 30 ms under load, and a batch queued behind it would add that
    // wait to every request in the batch.
    const maxInFlight = Math.max(1, (pool.options.max ?? 10) - 1);
    stores = {
      running: new Map(),
      batcher: new MessageBatcher(
        pool,
        (message, dedupWindowHours) =>
          insertOrFindMessage(pool, message, dedupWindowHours),
        maxInFlight,
      ),
    };
    storesByPool.set(pool, stores);
  }
  return stores;
}

/**
 * Stores `message` unless its (channel, dedupKey) is already stored, and
 * resolves once the row is committed. New messages and duplicates take one
 * round trip; a lost race for the same key takes two, and an expired
 * content-hash key up to five.
 *
 * Messages of concurrent requests share that round trip: MessageBatcher
 * inserts them with one statement. A message whose key is being stored by
 * another request of this process waits for that store instead, and is then
 * a duplicate of its result, so a retry burst of one message costs one
 * statement. If that store fails, the waiting message is stored on its own.
 * Across processes the unique index still decides. A dedupKey over 512
 * bytes is stored as its SHA-256 digest (see indexableKey).
 */
export async function storeMessage(
  pool: pg.Pool,
  message: NormalizedMessage,
  dedupWindowHours: number,
): Promise<StoreResult> {
  const dedupKey = indexableKey(message.dedupKey);
  if (dedupKey !== message.dedupKey) message = { ...message, dedupKey };
  const { running, batcher } = poolStoresOf(pool);
  const key = `${message.channel}\u0000${message.dedupKey}`;
  const first = running.get(key);
  if (first) {
    let result: StoreResult | undefined;
    try {
      result = await first;
    } catch {
      // The first request's error may be its own content (PostgreSQL
      // rejecting its payload), so this message gets its own attempt.
    }
    if (result) return { ...result, inserted: false };
    return insertOrFindMessage(pool, message, dedupWindowHours);
  }
  const store = batcher.store(message, dedupWindowHours);
  running.set(key, store);
  try {
    return await store;
  } finally {
    running.delete(key);
  }
}

/** Runs the dedup statement for `message`; see storeMessage. */
async function insertOrFindMessage(
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
    message.payloadJson ?? JSON.stringify(message.payload),
    message.rawBody,
    JSON.stringify(message.headers),
    JSON.stringify(message.media),
    message.replayOfId,
    dedupWindowHours,
  ];
  // Two attempts suffice: the second runs after the expired key was released,
  // so it either inserts or meets a row stored within the window.
  for (let attempt = 0; attempt < 2; attempt++) {
    const { rows } = await pool.query<StoreRow>({
      name: "insert_message",
      text: INSERT_MESSAGE,
      values,
    });
    let row = rows[0];
    if (!row) {
      const found = await pool.query<StoreRow>({
        name: "find_original_message",
        text: FIND_ORIGINAL,
        values: [message.channel, message.dedupKey, dedupWindowHours],
      });
      row = found.rows[0];
      // The winner was deleted in between (retention purge): insert again.
      if (!row) continue;
    }
    if (!row.expired) {
      return {
        inserted: row.inserted,
        id: row.id,
        receivedAt: row.received_at,
      };
    }
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
