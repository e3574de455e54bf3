import type pg from "pg";
import type { Channel, MediaItem } from "~/ingest/message";
import {
  aggregateByMinute,
  type RequestRecord,
} from "~/ingest/request-records.server";

// Rows of generated traffic and the multi-row statements that write them.

export interface SeedMessage {
  id: string;
  channel: Channel;
  provider: string;
  dedupKey: string;
  dedupKind: "id" | "hash";
  externalId: string | null;
  sender: string;
  recipient: string;
  subject: string | null;
  text: string;
  payload: unknown;
  headers: Record<string, string>;
  media: MediaItem[];
  receivedAt: Date;
}

export interface SeedStatusEvent {
  provider: string;
  channel: Channel;
  externalId: string;
  messageId: string;
  status: string;
  receivedAt: Date;
}

export interface Batch {
  messages: SeedMessage[];
  records: RequestRecord[];
  statusEvents: SeedStatusEvent[];
}

const INSERT_MESSAGES = `
INSERT INTO message (id, channel, provider, dedup_key, dedup_kind,
  external_id, sender, recipient, subject, text_preview, payload, headers,
  media, received_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
  $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
  $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::timestamptz[])`;

const INSERT_RECORDS = `
INSERT INTO request_record (request_id, received_at, method, path, provider,
  channel, status, outcome, latency_ms, message_id, duplicate_of_id,
  error_message, excerpt, content_type, content_length, client_ip)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[],
  $5::text[], $6::text[], $7::int[], $8::text[], $9::float8[], $10::uuid[],
  $11::uuid[], $12::text[], $13::text[], $14::text[], $15::int[], $16::text[])`;

const INSERT_STATUS_EVENTS = `
INSERT INTO status_event (provider, channel, external_message_id,
  message_id, status, payload, received_at)
SELECT p, c, e, m, s, jsonb_build_object('status', s, 'id', e), r
FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[],
  $6::timestamptz[]) AS u(p, c, e, m, s, r)`;

// Histograms travel as array literals, because a two-dimensional array
// parameter would need equal lengths and unnest would flatten it.
const UPSERT_STATS = `
INSERT INTO request_stats_minute AS s (bucket, channel, total, accepted,
  duplicate, rejected, latency_sum_ms, latency_hist)
SELECT b, c, t, a, d, r, l, h::int[]
FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::int[], $5::int[],
  $6::int[], $7::float8[], $8::text[]) AS u(b, c, t, a, d, r, l, h)
ON CONFLICT (bucket, channel) DO UPDATE SET
  total = s.total + EXCLUDED.total,
  accepted = s.accepted + EXCLUDED.accepted,
  duplicate = s.duplicate + EXCLUDED.duplicate,
  rejected = s.rejected + EXCLUDED.rejected,
  latency_sum_ms = s.latency_sum_ms + EXCLUDED.latency_sum_ms,
  latency_hist = ARRAY(
    SELECT a + b FROM unnest(s.latency_hist, EXCLUDED.latency_hist) AS u(a, b)
  )`;

/** Writes one batch in one transaction, so the counts never disagree. */
export async function writeBatch(pool: pg.Pool, batch: Batch): Promise<void> {
  const messages = batch.messages;
  const records = batch.records;
  const events = batch.statusEvents;
  const stats = aggregateByMinute(records);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(INSERT_MESSAGES, [
      messages.map((m) => m.id),
      messages.map((m) => m.channel),
      messages.map((m) => m.provider),
      messages.map((m) => m.dedupKey),
      messages.map((m) => m.dedupKind),
      messages.map((m) => m.externalId),
      messages.map((m) => m.sender),
      messages.map((m) => m.recipient),
      messages.map((m) => m.subject),
      messages.map((m) => m.text),
      messages.map((m) => JSON.stringify(m.payload)),
      messages.map((m) => JSON.stringify(m.headers)),
      messages.map((m) => JSON.stringify(m.media)),
      messages.map((m) => m.receivedAt),
    ]);
    await client.query(INSERT_RECORDS, [
      records.map((r) => r.requestId),
      records.map((r) => r.receivedAt),
      records.map((r) => r.method),
      records.map((r) => r.path),
      records.map((r) => r.provider),
      records.map((r) => r.channel),
      records.map((r) => r.status),
      records.map((r) => r.outcome),
      records.map((r) => r.latencyMs),
      records.map((r) => r.messageId),
      records.map((r) => r.duplicateOfId),
      records.map((r) => r.errorMessage),
      records.map((r) => r.excerpt),
      records.map((r) => r.contentType),
      records.map((r) => r.contentLength),
      records.map((r) => r.clientIp),
    ]);
    if (events.length > 0) {
      await client.query(INSERT_STATUS_EVENTS, [
        events.map((e) => e.provider),
        events.map((e) => e.channel),
        events.map((e) => e.externalId),
        events.map((e) => e.messageId),
        events.map((e) => e.status),
        events.map((e) => e.receivedAt),
      ]);
    }
    await client.query(UPSERT_STATS, [
      stats.map((s) => s.bucket),
      stats.map((s) => s.channel),
      stats.map((s) => s.total),
      stats.map((s) => s.accepted),
      stats.map((s) => s.duplicate),
      stats.map((s) => s.rejected),
      stats.map((s) => s.latencySumMs),
      stats.map((s) => `{${s.latencyHist.join(",")}}`),
    ]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
