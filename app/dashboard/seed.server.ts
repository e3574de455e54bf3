import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { MediaItem } from "~/ingest/message";
import type { RequestRecord } from "~/ingest/request-records.server";
import {
  DOMAINS,
  FAILURE_KINDS,
  FIRST_NAMES,
  PROVIDER_CHANNELS,
  PROVIDER_PATHS,
  PROVIDERS,
  SUBJECTS,
  TEXTS,
} from "./seed-fixtures";
import { writeBatch, type Batch, type SeedMessage } from "./seed-writer.server";

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
  /**
   * Random number source with values from 0 up to but excluding 1. Pass a
   * seeded one for repeatable data.
   */
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

  /** Picks a time in the window, with more traffic in recent hours. */
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
        ? (PROVIDER_CHANNELS[provider] ??
          this.pick(["email", "whatsapp", "sms"] as const))
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
