import type pg from "pg";
import { isDatabaseUnavailable } from "./database-errors.server";
import { previewOf, type NormalizedMessage } from "./message";
import type { StoreResult } from "./store.server";

/**
 * Inserts a batch of messages in one statement and returns one row per
 * input row, by `ord`. A row is either stored (`inserted`) or a duplicate
 * of a row committed before the statement began (the original's id). Its id
 * is null when the original was committed by a concurrent transaction after
 * that.
 *
 * Rows are inserted in (channel, dedup_key) order, so two batches that
 * share keys wait for each other's keys in the same order instead of
 * each holding a key the other waits for. storeMessage never puts one key
 * in a batch twice, which the join on (channel, dedup_key) relies on. The
 * original is read by a LATERAL subquery with LIMIT 1, which PostgreSQL
 * cannot turn into a join: a generic plan made while the table was small
 * would otherwise hash-join it against a sequential scan of message.
 */
export const INSERT_MESSAGE_BATCH = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS r(ord int, channel text,
    provider text, dedup_key text, dedup_kind text, external_id text,
    sender text, recipient text, subject text, text_preview text,
    payload jsonb, raw_body text, headers jsonb, media jsonb,
    replay_of_id uuid, window_hours double precision)
), inserted AS (
  INSERT INTO message (channel, provider, dedup_key, dedup_kind, external_id,
    sender, recipient, subject, text_preview, payload, raw_body, headers, media,
    replay_of_id)
  SELECT channel, provider, dedup_key, dedup_kind, external_id, sender,
    recipient, subject, text_preview, payload, decode(raw_body, 'base64'),
    headers, media, replay_of_id
  FROM input ORDER BY channel, dedup_key
  ON CONFLICT (channel, dedup_key) DO NOTHING
  RETURNING id, received_at, channel, dedup_key
)
SELECT i.ord,
  coalesce(ins.id, original.id) AS id,
  coalesce(ins.received_at, original.received_at) AS received_at,
  ins.id IS NOT NULL AS inserted,
  coalesce(original.dedup_kind = 'hash'
    AND original.received_at <= now() - i.window_hours * interval '1 hour',
    false) AS expired
FROM input i
LEFT JOIN inserted ins ON ins.channel = i.channel AND ins.dedup_key = i.dedup_key
LEFT JOIN LATERAL (
  SELECT m.id, m.received_at, m.dedup_kind FROM message m
  WHERE ins.id IS NULL AND m.channel COLLATE "C" = i.channel
    AND m.dedup_key = i.dedup_key
  LIMIT 1
) original ON true`;

interface BatchRow {
  ord: number;
  id: string | null;
  received_at: Date | null;
  inserted: boolean;
  expired: boolean;
}

interface QueuedMessage {
  message: NormalizedMessage;
  dedupWindowHours: number;
  resolve: (result: StoreResult) => void;
  reject: (error: unknown) => void;
}

/** Stores one message with the one-row statement; see storeMessage. */
export type StoreOne = (
  message: NormalizedMessage,
  dedupWindowHours: number,
) => Promise<StoreResult>;

/**
 * Serializes one input row of INSERT_MESSAGE_BATCH. The payload's JSON text
 * is embedded as it arrived, which spares a second JSON.stringify of it.
 */
function rowJson(ord: number, queued: QueuedMessage): string {
  const { message } = queued;
  const fields = JSON.stringify({
    ord,
    channel: message.channel,
    provider: message.provider,
    dedup_key: message.dedupKey,
    dedup_kind: message.dedupKind,
    external_id: message.externalId,
    sender: message.sender,
    recipient: message.recipient,
    subject: message.subject,
    text_preview: previewOf(message.text),
    raw_body: message.rawBody ? message.rawBody.toString("base64") : null,
    headers: message.headers,
    media: message.media,
    replay_of_id: message.replayOfId,
    window_hours: queued.dedupWindowHours,
  });
  const payload = message.payloadJson ?? JSON.stringify(message.payload);
  return `${fields.slice(0, -1)},"payload":${payload}}`;
}

/**
 * Groups the messages of concurrent requests into batches: one statement,
 * one commit and one round trip each. While fewer than `maxInFlight`
 * batches run, a new message starts one at the end of the current event
 * loop turn, so a lone request waits for nothing. Under load the messages
 * that arrive meanwhile form the next batch, which is what cuts the CPU
 * time per message in PostgreSQL and in this process.
 */
export class MessageBatcher {
  private queue: QueuedMessage[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly storeOne: StoreOne,
    private readonly maxInFlight: number,
    private readonly maxRows = 100,
  ) {}

  store(
    message: NormalizedMessage,
    dedupWindowHours: number,
  ): Promise<StoreResult> {
    return new Promise<StoreResult>((resolve, reject) => {
      this.queue.push({ message, dedupWindowHours, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    if (this.running >= this.maxInFlight) return;
    this.scheduled = true;
    // setImmediate runs after the current poll phase, so the requests whose
    // bodies arrived in the same turn share a batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.maxInFlight && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxRows);
        this.running++;
        void this.run(batch).finally(() => {
          this.running--;
          this.schedule();
        });
      }
    });
  }

  private async run(batch: QueuedMessage[]): Promise<void> {
    if (batch.length === 1) {
      await this.storeAlone(batch[0]);
      return;
    }
    let rows: BatchRow[];
    try {
      const json = `[${batch.map((queued, ord) => rowJson(ord, queued)).join(",")}]`;
      ({ rows } = await this.pool.query<BatchRow>({
        name: "insert_message_batch",
        text: INSERT_MESSAGE_BATCH,
        values: [json],
      }));
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        // A retry per message would wait for the same timeout again.
        for (const queued of batch) queued.reject(error);
        this.rejectQueued(error);
        return;
      }
      // One bad row fails the whole statement, so every message is stored
      // on its own and only the bad one fails its request.
      await Promise.all(batch.map((queued) => this.storeAlone(queued)));
      return;
    }
    const rowsByOrd = new Map(rows.map((row) => [row.ord, row]));
    await Promise.all(
      batch.map(async (queued, ord) => {
        const row = rowsByOrd.get(ord);
        if (row?.id && row.received_at && !row.expired) {
          queued.resolve({
            inserted: row.inserted,
            id: row.id,
            receivedAt: row.received_at,
          });
          return;
        }
        // The original was committed after the statement's snapshot, or it
        // is a content-hash key past the window: the one-row path handles
        // both.
        await this.storeAlone(queued);
      }),
    );
  }

  private async storeAlone(queued: QueuedMessage): Promise<void> {
    try {
      queued.resolve(
        await this.storeOne(queued.message, queued.dedupWindowHours),
      );
    } catch (error) {
      queued.reject(error);
      if (isDatabaseUnavailable(error)) this.rejectQueued(error);
    }
  }

  /**
   * Fails the messages still waiting for a batch slot. They would meet the
   * same unreachable database, after waiting for the running batches first,
   * while the pool fails its own waiting queries after its connect timeout.
   */
  private rejectQueued(error: unknown): void {
    const waiting = this.queue;
    this.queue = [];
    for (const queued of waiting) queued.reject(error);
  }
}
