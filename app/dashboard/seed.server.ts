import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Channel, MediaItem, Outcome } from "~/ingest/message";
import {
  aggregateByMinute,
  type RequestRecord,
} from "~/ingest/request-records.server";

/**
 * Generates realistic webhook traffic for the dashboard: messages on every
 * channel from several providers over the last days, with duplicates,
 * status events and rejected requests. message, request_record,
 * status_event and request_stats_minute are written consistently, so every
 * page shows the same numbers. Rows go in with multi-row INSERT ... SELECT
 * FROM unnest(...) statements of SEED_BATCH_SIZE messages each.
 */
export interface SeedOptions {
  /** Number of messages to store. */
  count: number;
  /** Messages are spread over this many days before `now`. */
  days?: number;
  now?: Date;
  /** A source of numbers in [0, 1); pass a seeded one for repeatable data. */
  random?: () => number;
}

export interface SeedResult {
  messages: number;
  /** request_record rows, one per request (original, duplicate or failure). */
  requestRecords: number;
  duplicates: number;
  failures: number;
  statusEvents: number;
}

export const SEED_BATCH_SIZE = 2000;
/** Share of messages that arrive again as duplicates. */
const DUPLICATE_SHARE = 0.1;
/** Rejected requests, as a share of the message count. */
const FAILURE_SHARE = 0.06;
/** Share of provider messages that receive a delivery status event. */
const STATUS_EVENT_SHARE = 0.2;

const PROVIDERS: Record<Channel, readonly string[]> = {
  email: ["sendgrid", "mailgun", "postmark", "resend", "test"],
  whatsapp: ["meta", "twilio", "test"],
  sms: ["twilio", "test"],
};

const PROVIDER_PATHS: Record<string, string> = {
  sendgrid: "/api/webhooks/sendgrid/inbound",
  mailgun: "/api/webhooks/mailgun/inbound",
  postmark: "/api/webhooks/postmark/inbound",
  resend: "/api/webhooks/resend",
  meta: "/api/webhooks/meta/whatsapp",
  twilio: "/api/webhooks/twilio",
  test: "/api/webhooks/test-multichannel",
};

const FIRST_NAMES = ["ana", "ben", "chloe", "dev", "emma", "farid", "grace"];
const DOMAINS = ["example.com", "example.org", "mail.example.net"];
const SUBJECTS = [
  "Order {n} arrived damaged",
  "Refund for invoice {n}",
  "Cannot log in to my account",
  "Question about plan upgrade",
  "Delivery address change for order {n}",
  "Re: ticket {n}",
];
const TEXTS = [
  "Hello, the box was crushed. Can you send a new one?",
  "Is the store open on Sunday?",
  "Your code is {n}",
  "Thanks, that fixed it!",
  "Please call me back at 5 pm, order {n}.",
  "Where is my parcel? Tracking says delivered.",
  "STOP",
];

interface FailureKind {
  outcome: Outcome;
  status: number;
  errorMessage: string;
  excerpt: string | null;
  contentType: string | null;
}

const FAILURE_KINDS: readonly FailureKind[] = [
  {
    outcome: "invalid",
    status: 400,
    errorMessage:
      "Body is not valid UTF-8 JSON: Expected property name or '}' in JSON at position 1",
    excerpt: "{channel: sms, from: +14155550100}",
    contentType: "application/json",
  },
  {
    outcome: "invalid",
    status: 400,
    errorMessage:
      "Payload is invalid. from: must be an E.164 number such as +14155550100",
    excerpt:
      '{"channel":"sms","from":"0415 555 0100","to":"+14155550199","text":"hi"}',
    contentType: "application/json",
  },
  {
    outcome: "unauthorized",
    status: 401,
    errorMessage:
      "Signature is invalid: X-Twilio-Signature does not match the request",
    excerpt: "ToCountry=US&SmsSid=SM0000&Body=Hello",
    contentType: "application/x-www-form-urlencoded",
  },
  {
    outcome: "unsupported_media_type",
    status: 415,
    errorMessage:
      'Content-Type must be application/json, got "text/plain". Send the body as JSON with the header Content-Type: application/json.',
    excerpt: "hello",
    contentType: "text/plain",
  },
  {
    outcome: "too_large",
    status: 413,
    errorMessage: "Body is larger than the limit of 1048576 bytes",
    excerpt: null,
    contentType: "application/json",
  },
  {
    outcome: "not_found",
    status: 404,
    errorMessage: "No webhook route matches /api/webhooks/twilo/sms",
    excerpt: null,
    contentType: "application/x-www-form-urlencoded",
  },
  {
    outcome: "method_not_allowed",
    status: 405,
    errorMessage: "Method PUT is not allowed; use POST",
    excerpt: null,
    contentType: null,
  },
  {
    outcome: "rate_limited",
    status: 429,
    errorMessage: "Too many requests from 203.0.113.7; retry after 12 s",
    excerpt: null,
    contentType: "application/json",
  },
  {
    outcome: "unavailable",
    status: 503,
    errorMessage: "Database is unreachable; retry after 5 s",
    excerpt: null,
    contentType: "application/json",
  },
];

interface SeedMessage {
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
  duplicateCount: number;
  lastDuplicateAt: Date | null;
}

interface SeedStatusEvent {
  provider: string;
  channel: Channel;
  externalId: string;
  messageId: string;
  status: string;
  receivedAt: Date;
}

interface Batch {
  messages: SeedMessage[];
  records: RequestRecord[];
  statusEvents: SeedStatusEvent[];
}

/** Fills the database at `pool` and returns how many rows it wrote. */
export async function seedDatabase(
  pool: pg.Pool,
  options: SeedOptions,
): Promise<SeedResult> {
  const generator = new TrafficGenerator(
    options.random ?? Math.random,
    options.now ?? new Date(),
    options.days ?? 7,
  );
  const result: SeedResult = {
    messages: 0,
    requestRecords: 0,
    duplicates: 0,
    failures: 0,
    statusEvents: 0,
  };
  const failureTotal = Math.round(options.count * FAILURE_SHARE);
  for (let done = 0; done < options.count; done += SEED_BATCH_SIZE) {
    const size = Math.min(SEED_BATCH_SIZE, options.count - done);
    const failures = Math.round((failureTotal * size) / options.count);
    const batch = generator.batch(size, failures);
    await writeBatch(pool, batch);
    result.messages += batch.messages.length;
    result.requestRecords += batch.records.length;
    result.duplicates += batch.records.filter(
      (record) => record.outcome === "duplicate",
    ).length;
    result.failures += failures;
    result.statusEvents += batch.statusEvents.length;
  }
  return result;
}

class TrafficGenerator {
  private serial = 0;

  constructor(
    private readonly random: () => number,
    private readonly now: Date,
    private readonly days: number,
  ) {}

  batch(messageCount: number, failureCount: number): Batch {
    const batch: Batch = { messages: [], records: [], statusEvents: [] };
    for (let i = 0; i < messageCount; i++) this.addMessage(batch);
    for (let i = 0; i < failureCount; i++) this.addFailure(batch);
    return batch;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private number(digits: number): string {
    let out = String(1 + Math.floor(this.random() * 9));
    for (let i = 1; i < digits; i++) out += Math.floor(this.random() * 10);
    return out;
  }

  private phone(): string {
    return `+1415555${this.number(4)}`;
  }

  private email(): string {
    return `${this.pick(FIRST_NAMES)}.${this.number(3)}@${this.pick(DOMAINS)}`;
  }

  private fill(template: string): string {
    return template.replace("{n}", this.number(4));
  }

  /** A time in the window, with more traffic in recent hours. */
  private time(): Date {
    const windowMs = this.days * 86_400_000;
    const offset = windowMs * this.random() ** 1.5;
    return new Date(Math.floor(this.now.getTime() - offset));
  }

  /** Ingest latency in ms: mostly 2 to 20 ms with a long tail. */
  private latency(): number {
    const gaussian =
      Math.sqrt(-2 * Math.log(1 - this.random())) *
      Math.cos(2 * Math.PI * this.random());
    return Math.round(Math.exp(1.8 + 0.7 * gaussian) * 1000) / 1000;
  }

  private record(
    fields: Partial<RequestRecord> &
      Pick<RequestRecord, "receivedAt" | "outcome" | "status" | "path">,
  ): RequestRecord {
    return {
      requestId: randomUUID(),
      method: "POST",
      provider: null,
      channel: null,
      latencyMs: this.latency(),
      messageId: null,
      duplicateOfId: null,
      errorMessage: null,
      excerpt: null,
      contentType: "application/json",
      contentLength: 200 + Math.floor(this.random() * 1500),
      clientIp: `203.0.113.${1 + Math.floor(this.random() * 250)}`,
      ...fields,
    };
  }

  private addMessage(batch: Batch): void {
    const channel = this.pick(["email", "email", "whatsapp", "sms"] as const);
    const provider = this.pick(PROVIDERS[channel]);
    const receivedAt = this.time();
    this.serial++;
    const externalId =
      provider === "test" && this.random() < 0.3
        ? null
        : `${provider}-${channel}-${this.serial}-${this.number(8)}`;
    const sender = channel === "email" ? this.email() : this.phone();
    const recipient =
      channel === "email" ? "support@example.com" : "+14155550199";
    const subject = channel === "email" ? this.fill(this.pick(SUBJECTS)) : null;
    const text = this.fill(this.pick(TEXTS));
    const media: MediaItem[] =
      channel === "whatsapp" && this.random() < 0.25
        ? [
            {
              url: `https://media.example.com/${this.number(8)}.jpg`,
              contentType: "image/jpeg",
              size: 20_000 + Math.floor(this.random() * 200_000),
            },
          ]
        : [];
    const payload = {
      channel,
      from: sender,
      to: channel === "email" ? [recipient] : recipient,
      ...(subject === null ? {} : { subject }),
      text,
      ...(media.length > 0
        ? { media: media.map(({ url, contentType }) => ({ url, contentType })) }
        : {}),
      ...(externalId === null ? {} : { messageId: externalId }),
    };
    const message: SeedMessage = {
      id: randomUUID(),
      channel,
      provider,
      dedupKey:
        externalId === null
          ? `sha256:seed-${randomUUID()}`
          : `id:${externalId}`,
      dedupKind: externalId === null ? "hash" : "id",
      externalId,
      sender,
      recipient,
      subject,
      text,
      payload,
      headers: {
        "content-type": "application/json",
        "user-agent": `${provider}-webhooks/1.0`,
      },
      media,
      receivedAt,
      duplicateCount: 0,
      lastDuplicateAt: null,
    };
    batch.messages.push(message);
    const path = PROVIDER_PATHS[provider];
    batch.records.push(
      this.record({
        receivedAt,
        path,
        provider,
        channel,
        status: 201,
        outcome: "accepted",
        messageId: message.id,
      }),
    );

    if (this.random() < DUPLICATE_SHARE) {
      const repeats = 1 + Math.floor(this.random() * 3);
      for (let i = 0; i < repeats; i++) {
        const at = new Date(
          Math.min(
            this.now.getTime(),
            receivedAt.getTime() + Math.floor(this.random() * 600_000),
          ),
        );
        batch.records.push(
          this.record({
            receivedAt: at,
            path,
            provider,
            channel,
            status: provider === "test" ? 409 : 200,
            outcome: "duplicate",
            duplicateOfId: message.id,
          }),
        );
        message.duplicateCount++;
        if (!message.lastDuplicateAt || at > message.lastDuplicateAt)
          message.lastDuplicateAt = at;
      }
    }

    if (
      provider !== "test" &&
      externalId !== null &&
      this.random() < STATUS_EVENT_SHARE
    ) {
      const at = new Date(
        Math.min(
          this.now.getTime(),
          receivedAt.getTime() + Math.floor(this.random() * 120_000),
        ),
      );
      batch.statusEvents.push({
        provider,
        channel,
        externalId,
        messageId: message.id,
        status: this.pick(["delivered", "read", "failed"]),
        receivedAt: at,
      });
      batch.records.push(
        this.record({
          receivedAt: at,
          path,
          provider,
          channel,
          status: 200,
          outcome: "status_event",
        }),
      );
    }
  }

  private addFailure(batch: Batch): void {
    const kind = this.pick(FAILURE_KINDS);
    const provider = this.pick(Object.keys(PROVIDER_PATHS));
    const channel =
      kind.outcome === "invalid" || kind.outcome === "unauthorized"
        ? this.pick(["email", "whatsapp", "sms"] as const)
        : null;
    batch.records.push(
      this.record({
        receivedAt: this.time(),
        path:
          kind.outcome === "not_found"
            ? "/api/webhooks/twilo/sms"
            : PROVIDER_PATHS[provider],
        method: kind.outcome === "method_not_allowed" ? "PUT" : "POST",
        provider: kind.outcome === "not_found" ? null : provider,
        channel,
        status: kind.status,
        outcome: kind.outcome,
        errorMessage: kind.errorMessage,
        excerpt: kind.excerpt,
        contentType: kind.contentType,
      }),
    );
  }
}

const INSERT_MESSAGES = `
INSERT INTO message (id, channel, provider, dedup_key, dedup_kind,
  external_id, sender, recipient, subject, text_preview, payload, headers,
  media, received_at, duplicate_count, last_duplicate_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
  $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
  $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::timestamptz[], $15::int[],
  $16::timestamptz[])`;

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
async function writeBatch(pool: pg.Pool, batch: Batch): Promise<void> {
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
      messages.map((m) => m.duplicateCount),
      messages.map((m) => m.lastDuplicateAt),
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
