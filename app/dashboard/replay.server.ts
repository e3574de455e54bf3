import { randomUUID } from "node:crypto";
import type pg from "pg";
import { REPLAY_OF_HEADER } from "~/ingest/request-headers.server";
import { TEST_ENDPOINT_PATH } from "~/ingest/test-endpoint.server";
import { buildProviderReplay } from "~/ingest/providers/replay.server";
import { logger } from "~/logger.server";
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
      /** The message the replay stored, or null when it stored none. */
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
  /** The database clock when the row was read, rounded to milliseconds. */
  loadedAt: Date;
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
 * signs them. `newMessageId` is read from the database afterwards, because
 * provider endpoints return 200 with a body of their own format. Returns
 * null when no message has this id.
 */
export async function replayMessage(
  pool: pg.Pool,
  id: string,
  mode: ReplayMode,
  origin: string,
): Promise<ReplayOutcome | null> {
  if (!isMessageId(id)) return null;
  const { rows } = await pool.query<StoredMessageRow>(
    `SELECT id, provider, channel, payload, raw_body AS "rawBody", headers,
       now()::timestamptz(3) AS "loadedAt"
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
  let status: number;
  let body: string;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...init.headers, [REPLAY_OF_HEADER]: message.id },
      body: init.body,
      redirect: "manual",
      signal: AbortSignal.timeout(REPLAY_TIMEOUT_MS),
    });
    status = response.status;
    body = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      kind: "failed",
      error: `POST ${url.toString()} failed: ${reason}`,
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return {
    kind: "sent",
    mode,
    url: url.toString(),
    status,
    body: prettyBody(body).slice(0, RESPONSE_PREVIEW_LENGTH),
    latencyMs,
    newMessageId: await findStoredCopy(pool, message, listedIds(body)),
  };
}

/**
 * Finds the newest message stored with replay_of_id = `original.id` since
 * the original was read, which is the copy a replay stored. received_at is
 * set by the database clock with millisecond precision, like `loadedAt`.
 * When the response lists the stored ids, only those qualify. Returns null
 * when the replay stored nothing, as for a duplicate.
 *
 * NOTE: Twilio's TwiML response lists no ids, so when two replays of one
 * Twilio message run at once, each may return the copy of the other.
 */
async function findStoredCopy(
  pool: pg.Pool,
  original: StoredMessageRow,
  responseIds: string[] | null,
): Promise<string | null> {
  try {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM message
       WHERE replay_of_id = $1 AND received_at >= $2
         AND ($3::uuid[] IS NULL OR id = ANY ($3::uuid[]))
       ORDER BY received_at DESC, id DESC
       LIMIT 1`,
      [original.id, original.loadedAt, responseIds],
    );
    return rows[0]?.id ?? null;
  } catch (error) {
    logger.error(
      { err: error, messageId: original.id },
      "reading the message stored by a replay failed",
    );
    return null;
  }
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * Returns the message ids in a JSON response: `id` from the test endpoint's
 * 201, `ids` from a provider's acknowledgement. Returns null for a response
 * that has neither, such as Twilio's TwiML.
 */
function listedIds(body: string): string[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { id, ids } = parsed as { id?: unknown; ids?: unknown };
  let listed: unknown[];
  if (Array.isArray(ids)) listed = ids;
  else if (id !== undefined) listed = [id];
  else return null;
  return listed.filter(
    (item): item is string => typeof item === "string" && isMessageId(item),
  );
}
