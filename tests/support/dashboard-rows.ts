import { randomUUID } from "node:crypto";
import type pg from "pg";

/** Fields of a message row that dashboard tests set; the rest get defaults. */
export interface TestMessage {
  id?: string;
  channel?: "email" | "whatsapp" | "sms";
  provider?: string;
  sender?: string;
  recipient?: string;
  subject?: string | null;
  text?: string;
  receivedAt: Date;
  replayOfId?: string | null;
}

/** Inserts one message row directly and returns its id. */
export async function insertMessage(
  pool: pg.Pool,
  message: TestMessage,
): Promise<string> {
  const id = message.id ?? randomUUID();
  await pool.query(
    `INSERT INTO message (id, channel, provider, dedup_key, dedup_kind,
       sender, recipient, subject, text_preview, payload, headers,
       received_at, replay_of_id)
     VALUES ($1, $2, $3, $4, 'id', $5, $6, $7, $8, '{}', '{}', $9, $10)`,
    [
      id,
      message.channel ?? "sms",
      message.provider ?? "test",
      `id:${id}`,
      message.sender ?? "+14155550100",
      message.recipient ?? "+14155550199",
      message.subject ?? null,
      message.text ?? "hello",
      message.receivedAt,
      message.replayOfId ?? null,
    ],
  );
  return id;
}

/** Fields of a request_record row that dashboard tests set. */
export interface TestRequestRecord {
  receivedAt: Date;
  outcome: string;
  status: number;
  path?: string;
  provider?: string | null;
  channel?: string | null;
  latencyMs?: number;
  messageId?: string | null;
  duplicateOfId?: string | null;
  errorMessage?: string | null;
  excerpt?: string | null;
}

/** Inserts one request_record row directly and returns its id. */
export async function insertRequestRecord(
  pool: pg.Pool,
  record: TestRequestRecord,
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO request_record (request_id, received_at, method, path,
       provider, channel, status, outcome, latency_ms, message_id,
       duplicate_of_id, error_message, excerpt)
     VALUES ($1, $2, 'POST', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING id::text`,
    [
      randomUUID(),
      record.receivedAt,
      record.path ?? "/api/webhooks/test-multichannel",
      record.provider ?? "test",
      record.channel ?? "sms",
      record.status,
      record.outcome,
      record.latencyMs ?? 5,
      record.messageId ?? null,
      record.duplicateOfId ?? null,
      record.errorMessage ?? null,
      record.excerpt ?? null,
    ],
  );
  return rows[0].id;
}
