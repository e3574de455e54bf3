import { randomUUID } from "node:crypto";
import type { AppContext } from "~/boot.server";
import { logger } from "~/logger.server";
import {
  findSendRoute,
  routeKey,
  signProviderBody,
  type SignedRequest,
} from "./signing.server";

/** A stored row that a test send produced, read back from request_record. */
export interface TestSendRecord {
  outcome: string;
  messageId: string | null;
  sender: string | null;
  recipient: string | null;
  text: string | null;
}

export interface TestSendResult {
  route: string;
  url: string;
  status: number;
  responseBody: string;
  latencyMs: number;
  records: TestSendRecord[];
}

/** Time to wait for the batched request records of the test send. */
const RECORD_WAIT_MS = 3000;

async function recordsOf(
  app: AppContext,
  requestId: string,
): Promise<TestSendRecord[]> {
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const { rows } = await app.pool.query<{
      outcome: string;
      message_id: string | null;
      sender: string | null;
      recipient: string | null;
      text_preview: string | null;
    }>(
      `SELECT r.outcome, coalesce(r.message_id, r.duplicate_of_id) AS message_id,
         m.sender, m.recipient, m.text_preview
       FROM request_record r
       LEFT JOIN message m ON m.id = coalesce(r.message_id, r.duplicate_of_id)
       WHERE r.request_id = $1 ORDER BY r.id`,
      [requestId],
    );
    if (rows.length > 0 || Date.now() > deadline) {
      return rows.map((row) => ({
        outcome: row.outcome,
        messageId: row.message_id,
        sender: row.sender,
        recipient: row.recipient,
        text: row.text_preview,
      }));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Signs `body` in the format of `key` (provider/channel) and POSTs it over
 * HTTP to the app's own endpoint at `origin`, then reads back what was
 * stored. Twilio signs against PUBLIC_URL when set, else `origin`.
 *
 * `origin` is the server's own listening address (the request's origin
 * only under `remix vite:dev`), and only paths under /api/webhooks/ are
 * posted.
 */
export async function sendProviderTest(
  app: AppContext,
  key: string,
  body: string,
  origin: string,
): Promise<TestSendResult | { error: string }> {
  const route = findSendRoute(key);
  if (!route) {
    return {
      error: `Unknown endpoint ${JSON.stringify(key)}. Pick one from the list.`,
    };
  }
  if (body.trim() === "") {
    return { error: "Payload is empty. Load the example or paste a body." };
  }

  // Browsers submit textarea text with CRLF line ends. A MIME message needs
  // CRLF, and JSON and form bodies read better with LF.
  const lineEnd = route.provider === "sendgrid" ? "\r\n" : "\n";
  const signed: SignedRequest = signProviderBody(
    route,
    Buffer.from(body.replace(/\r?\n/g, lineEnd)),
    app.env,
    { signingBaseUrl: app.env.PUBLIC_URL ?? origin, now: app.now() },
  );

  const requestId = randomUUID();
  const url = origin + signed.path;
  const startedAt = performance.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method: signed.method,
      headers: { ...signed.headers, "x-request-id": requestId },
      body: new Uint8Array(signed.body),
    });
  } catch (error) {
    logger.error({ err: error, url }, "test send failed");
    const reason = error instanceof Error ? error.message : String(error);
    return { error: `Sending to ${url} failed: ${reason}` };
  }

  const responseBody = await response.text();
  const latencyMs = Math.round((performance.now() - startedAt) * 10) / 10;
  return {
    route: routeKey(route),
    url,
    status: response.status,
    responseBody,
    latencyMs,
    records: await recordsOf(app, requestId),
  };
}
