import { randomUUID } from "node:crypto";
import type pg from "pg";
import { REPLAY_OF_HEADER } from "~/ingest/request-headers.server";
import { TEST_ENDPOINT_PATH } from "~/ingest/test-endpoint.server";
import { buildProviderReplay } from "~/ingest/providers/replay.server";
import type { ReplayMode } from "./constants";
import { isMessageId } from "./message-detail.server";

/** Replayed requests that take longer than this are aborted. */
export const REPLAY_TIMEOUT_MS = 10_000;
/** The response body shown after a replay is cut to this many characters. */
const RESPONSE_PREVIEW_LENGTH = 4000;

export type ReplayOutcome =
  | {
      kind: "sent";
      mode: ReplayMode;
      url: string;
      status: number;
      body: string;
      latencyMs: number;
      /** The message the replay stored, when the endpoint returned one. */
      newMessageId: string | null;
    }
  | { kind: "unavailable"; provider: string }
  | { kind: "failed"; error: string };

interface StoredMessageRow {
  id: string;
  provider: string;
  channel: string;
  payload: unknown;
  rawBody: Buffer | null;
  headers: Record<string, string>;
}

/** Returns the test payload with a fresh `replay-<uuid>` messageId. */
export function withFreshMessageId(payload: unknown): unknown {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    return payload;
  return { ...payload, messageId: `replay-${randomUUID()}` };
}

/**
 * Re-sends a stored message over HTTP through the app's own ingest
 * endpoint at `origin`, with X-Replay-Of set to its id. Mode "unchanged"
 * sends the stored payload as it is, so the endpoint rejects it as a
 * duplicate. Mode "new" gives it a fresh message id, so it is stored as a
 * new message. Provider messages go through buildProviderReplay, which
 * signs them. Returns null when no message has this id.
 */
export async function replayMessage(
  pool: pg.Pool,
  id: string,
  mode: ReplayMode,
  origin: string,
): Promise<ReplayOutcome | null> {
  if (!isMessageId(id)) return null;
  const { rows } = await pool.query<StoredMessageRow>(
    `SELECT id, provider, channel, payload, raw_body AS "rawBody", headers
     FROM message WHERE id = $1`,
    [id],
  );
  const message = rows[0];
  if (!message) return null;

  let url: URL;
  let init: {
    headers: Record<string, string>;
    body: string | Uint8Array<ArrayBuffer>;
  };
  if (message.provider === "test") {
    const payload =
      mode === "new" ? withFreshMessageId(message.payload) : message.payload;
    url = new URL(TEST_ENDPOINT_PATH, origin);
    init = {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    };
  } else {
    const replay = await buildProviderReplay(message, {
      asNew: mode === "new",
      baseUrl: origin,
    });
    if (replay === null)
      return { kind: "unavailable", provider: message.provider };
    url = new URL(replay.path, origin);
    init = { headers: replay.headers, body: new Uint8Array(replay.body) };
  }

  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...init.headers, [REPLAY_OF_HEADER]: message.id },
      body: init.body,
      redirect: "manual",
      signal: AbortSignal.timeout(REPLAY_TIMEOUT_MS),
    });
    const body = await response.text();
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return {
      kind: "sent",
      mode,
      url: url.toString(),
      status: response.status,
      body: prettyBody(body).slice(0, RESPONSE_PREVIEW_LENGTH),
      latencyMs,
      newMessageId: response.status === 201 ? storedId(body) : null,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      kind: "failed",
      error: `POST ${url.toString()} failed: ${reason}`,
    };
  }
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function storedId(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    return typeof parsed.id === "string" && isMessageId(parsed.id)
      ? parsed.id
      : null;
  } catch {
    return null;
  }
}
