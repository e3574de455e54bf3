import type pg from "pg";
import { isDatabaseUnavailable } from "./database-errors.server";
import { storableText } from "./json-text";
import { logger } from "~/logger.server";
import { LATENCY_BUCKET_COUNT, latencyBucket } from "./latency-histogram";
import type { Outcome } from "./message";

/** One row of request_record. */
export interface RequestRecord {
  requestId: string;
  receivedAt: Date;
  method: string;
  path: string;
  provider: string | null;
  channel: string | null;
  status: number;
  outcome: Outcome;
  latencyMs: number;
  messageId: string | null;
  duplicateOfId: string | null;
  errorMessage: string | null;
  excerpt: string | null;
  contentType: string | null;
  contentLength: number | null;
  clientIp: string | null;
}

/** The fields of a record that the per-minute statistics count. */
type CountedFields = Pick<
  RequestRecord,
  "receivedAt" | "channel" | "outcome" | "latencyMs"
>;

/**
 * A buffered record: its JSON text, made when the request finished, and the
 * fields the statistics count. Serializing the 900 records of one flush at
 * 4,500 requests per second takes about 3 ms, and every request in flight
 * would wait for it. One string per record also leaves the garbage
 * collector fewer objects to copy.
 */
interface PendingRecord extends CountedFields {
  requestId: string;
  json: string;
}

/** Serializes a record as one element of the INSERT_RECORDS array. */
function recordJson(record: RequestRecord): string {
  const json = JSON.stringify(record);
  // Error messages and excerpts quote request bodies. JSON.stringify writes
  // NUL and lone surrogates as \u escapes, so a record without one has neither.
  if (!json.includes("\\u")) return json;
  return JSON.stringify(record, (_key, value: unknown) =>
    typeof value === "string" ? storableText(value) : value,
  );
}

/** Records held in memory while the database is unreachable, at most. */
export const MAX_PENDING_RECORDS = 100_000;
const FLUSH_BATCH = 1000;

/**
 * Inserts a batch passed as one JSON array of RequestRecord objects: native
 * JSON.stringify costs less than serializing 16 PostgreSQL arrays in
 * JavaScript. The column names of the record type are the object keys.
 */
const INSERT_RECORDS = `
INSERT INTO request_record (request_id, received_at, method, path, provider,
  channel, status, outcome, latency_ms, message_id, duplicate_of_id,
  error_message, excerpt, content_type, content_length, client_ip)
SELECT "requestId", "receivedAt", method, path, provider, channel, status,
  outcome, "latencyMs", "messageId", "duplicateOfId", "errorMessage", excerpt,
  "contentType", "contentLength", "clientIp"
FROM json_to_recordset($1::json) AS r("requestId" text,
  "receivedAt" timestamptz, method text, path text, provider text,
  channel text, status int, outcome text, "latencyMs" float8,
  "messageId" uuid, "duplicateOfId" uuid, "errorMessage" text, excerpt text,
  "contentType" text, "contentLength" int, "clientIp" text)`;

const UPSERT_STATS = `
INSERT INTO request_stats_minute AS s (bucket, channel, total, accepted,
  duplicate, rejected, latency_sum_ms, latency_hist)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (bucket, channel) DO UPDATE SET
  total = s.total + EXCLUDED.total,
  accepted = s.accepted + EXCLUDED.accepted,
  duplicate = s.duplicate + EXCLUDED.duplicate,
  rejected = s.rejected + EXCLUDED.rejected,
  latency_sum_ms = s.latency_sum_ms + EXCLUDED.latency_sum_ms,
  latency_hist = ARRAY(
    SELECT a + b FROM unnest(s.latency_hist, EXCLUDED.latency_hist) AS u(a, b)
  )`;

interface MinuteStats {
  bucket: Date;
  channel: string;
  total: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  latencySumMs: number;
  latencyHist: number[];
}

function isRejection(outcome: Outcome): boolean {
  return !["accepted", "duplicate", "status_event", "verified"].includes(
    outcome,
  );
}

/** Folds records into one row per (minute, channel) of request_stats_minute. */
export function aggregateByMinute(
  records: readonly CountedFields[],
): MinuteStats[] {
  const groups = new Map<string, MinuteStats>();
  for (const record of records) {
    const minute = Math.floor(record.receivedAt.getTime() / 60_000) * 60_000;
    const channel = record.channel ?? "";
    const key = `${minute}|${channel}`;
    let stats = groups.get(key);
    if (!stats) {
      stats = {
        bucket: new Date(minute),
        channel,
        total: 0,
        accepted: 0,
        duplicate: 0,
        rejected: 0,
        latencySumMs: 0,
        latencyHist: new Array<number>(LATENCY_BUCKET_COUNT).fill(0),
      };
      groups.set(key, stats);
    }
    stats.total++;
    if (record.outcome === "accepted") stats.accepted++;
    else if (record.outcome === "duplicate") stats.duplicate++;
    else if (isRejection(record.outcome)) stats.rejected++;
    stats.latencySumMs += record.latencyMs;
    stats.latencyHist[latencyBucket(record.latencyMs)]++;
  }
  return [...groups.values()];
}

/**
 * Buffers request records and writes them in batches, off the request path,
 * so recording costs a request no database round trip. The per-minute
 * statistics are updated in the same transaction as the rows they count.
 * Records survive a database outage in memory up to MAX_PENDING_RECORDS;
 * past that the oldest are dropped and the drop is logged.
 */
export class RequestRecordWriter {
  private pending: PendingRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly flushIntervalMs: number,
  ) {}

  add(record: RequestRecord): void {
    if (this.closed) {
      // The pool is closed or closing, so the record cannot be written, and
      // a flush timer would only hold the process open.
      logger.warn(
        { requestId: record.requestId, outcome: record.outcome },
        "request record not written because the server is shutting down",
      );
      return;
    }
    this.pending.push({
      requestId: record.requestId,
      json: recordJson(record),
      receivedAt: record.receivedAt,
      channel: record.channel,
      outcome: record.outcome,
      latencyMs: record.latencyMs,
    });
    if (this.pending.length > MAX_PENDING_RECORDS) {
      const excess = this.pending.length - MAX_PENDING_RECORDS;
      this.pending.splice(0, excess);
      this.dropped += excess;
    }
    if (this.pending.length >= FLUSH_BATCH) {
      // A running flush drains everything added meanwhile, so one is enough.
      if (!this.flushing) void this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes everything buffered; resolves once it is written or has failed. */
  async flush(): Promise<void> {
    // Only one write runs at a time: every caller waits for the running one,
    // and the first to resume starts the next, so a batch is never written
    // twice and callers never take more than one pooled connection.
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    this.flushing = this.writePending().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  /**
   * Flushes and stops the timer; used at shutdown. Records that still cannot
   * be written (the database is down) are lost, and their count is logged.
   * Records added afterwards are logged and dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      logger.error(
        { lost: this.pending.length },
        "request records not written at shutdown because the database failed",
      );
    }
  }

  private async writePending(): Promise<void> {
    if (this.dropped > 0) {
      logger.error(
        { dropped: this.dropped },
        "request records dropped while the database was unreachable",
      );
      this.dropped = 0;
    }
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, FLUSH_BATCH);
      try {
        try {
          await this.writeBatch(batch);
        } catch (error) {
          if (isDatabaseUnavailable(error)) throw error;
          // A record the database rejects would fail every retry of its
          // batch, so the records are written one at a time instead.
          await this.writeEach(batch);
        }
        this.pending.splice(0, batch.length);
      } catch (error) {
        logger.warn(
          { err: error, pending: this.pending.length },
          "request record flush failed; retrying",
        );
        this.timer ??= setTimeout(
          () => {
            this.timer = undefined;
            void this.flush();
          },
          Math.max(this.flushIntervalMs, 1000),
        );
        return;
      }
    }
  }

  /**
   * Writes each record of `batch` in its own transaction and drops, with a
   * log line, those the database rejects. Stops at the first error that
   * means the database is unreachable, leaving the records not yet written
   * in `pending`.
   */
  private async writeEach(batch: PendingRecord[]): Promise<void> {
    for (const [index, pending] of batch.entries()) {
      try {
        await this.writeBatch([pending]);
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          this.pending.splice(0, index);
          throw error;
        }
        logger.error(
          { err: error, requestId: pending.requestId },
          "request record rejected by the database; dropped",
        );
      }
    }
  }

  private async writeBatch(batch: PendingRecord[]): Promise<void> {
    const client = await this.pool.connect();
    // A checked-out client has no pool listener. pg emits "Connection
    // terminated unexpectedly" as an 'error' event even while a query fails
    // with it, so without this listener the event would crash the process.
    const onError = (error: Error) => {
      logger.warn({ err: error }, "request record connection failed");
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      // The batch commits without waiting for its WAL flush. These records
      // already sit in memory for up to flushIntervalMs, and a crash can now
      // also lose the last commits before the WAL writer flushed them
      // (3 x wal_writer_delay at most, 600 ms by default). Messages still
      // commit synchronously before they are acknowledged.
      await client.query("SET LOCAL synchronous_commit = off");
      await client.query({
        name: "insert_request_records",
        text: INSERT_RECORDS,
        values: [`[${batch.map((pending) => pending.json).join(",")}]`],
      });
      // Sorted so that concurrent flushes lock the rows in one order.
      const minutes = aggregateByMinute(batch).sort(
        (a, b) =>
          a.bucket.getTime() - b.bucket.getTime() ||
          a.channel.localeCompare(b.channel),
      );
      for (const stats of minutes) {
        await client.query({
          name: "upsert_request_stats",
          text: UPSERT_STATS,
          values: [
            stats.bucket,
            stats.channel,
            stats.total,
            stats.accepted,
            stats.duplicate,
            stats.rejected,
            stats.latencySumMs,
            stats.latencyHist,
          ],
        });
      }
      await client.query("COMMIT");
      client.removeListener("error", onError);
      client.release();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      // Releasing with the error discards the connection, which may be
      // broken (a read timeout leaves a query in flight on it).
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }
}
