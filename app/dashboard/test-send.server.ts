import { randomUUID } from "node:crypto";
import type { Channel } from "~/ingest/message";
import { TEST_ENDPOINT_PATH } from "~/ingest/test-endpoint.server";
import { issuesOf, testPayloadSchema } from "~/ingest/test-payload";
import { logger } from "~/logger.server";
import {
  SEND_INTENTS,
  SEND_TIMEOUT_MS,
  type SendIntent,
  type TestSendResult,
} from "./test-send";

export interface TestSendInput {
  channel: Channel;
  /** The `payload` form field, or null when it is missing. */
  json: string | null;
  /** The `intent` form field, or null when it is missing. */
  intent: string | null;
  /** Origin of this server, without a trailing slash. */
  origin: string;
}

function isSendIntent(value: string): value is SendIntent {
  return (SEND_INTENTS as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates the form's JSON with the schema of the test endpoint, then posts
 * it to that endpoint over HTTP, so dedup, request records and latency
 * statistics apply as for any other client.
 */
export async function runTestSend(
  input: TestSendInput,
): Promise<TestSendResult> {
  if (input.json === null) {
    return invalid("", "payload", "is required: send the form field payload");
  }
  let text = input.json;
  const intent = input.intent ?? "send";
  if (!isSendIntent(intent)) {
    return invalid(
      text,
      "intent",
      `must be one of ${SEND_INTENTS.join(", ")}, got ${JSON.stringify(intent)}`,
    );
  }

  if (text.trim() === "") {
    return invalid(
      text,
      "(root)",
      "is empty: load the example or paste a JSON payload",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return invalid(text, "(root)", `is not valid JSON: ${reason}`);
  }

  if (intent === "new-id" && isPlainObject(json)) {
    json = { ...json, messageId: `${input.channel}-${randomUUID()}` };
    text = JSON.stringify(json, null, 2);
  }

  const parsed = testPayloadSchema.safeParse(json);
  if (!parsed.success) {
    return { kind: "invalid", json: text, issues: issuesOf(parsed.error) };
  }
  if (parsed.data.channel !== input.channel) {
    return invalid(
      text,
      "channel",
      `must be "${input.channel}" on this page; use /send/${parsed.data.channel} to send ${parsed.data.channel}`,
    );
  }

  return post(input.origin, text);
}

function invalid(json: string, path: string, message: string): TestSendResult {
  return { kind: "invalid", json, issues: [{ path, message }] };
}

async function post(origin: string, text: string): Promise<TestSendResult> {
  const url = origin + TEST_ENDPOINT_PATH;
  const started = performance.now();
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    body = await response.text();
  } catch (error) {
    const timedOut =
      error instanceof DOMException && error.name === "TimeoutError";
    const reason = timedOut
      ? `timed out after ${SEND_TIMEOUT_MS} ms`
      : `failed: ${error instanceof Error ? error.message : String(error)}`;
    logger.warn({ err: error, url }, "test send failed");
    return { kind: "failed", json: text, error: `POST ${url} ${reason}` };
  }
  const roundTripMs = Math.round((performance.now() - started) * 1000) / 1000;
  return {
    kind: "sent",
    json: text,
    status: response.status,
    statusText: response.statusText,
    roundTripMs,
    ...describeBody(response.status, body),
  };
}

function describeBody(
  status: number,
  body: string,
): { body: string; serverLatencyMs: number | null; messageId: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { body, serverLatencyMs: null, messageId: null };
  }
  const fields = isPlainObject(json) ? json : {};
  const latency = fields.latencyMs;
  const id = status === 409 ? fields.duplicateOf : fields.id;
  return {
    body: JSON.stringify(json, null, 2),
    serverLatencyMs: typeof latency === "number" ? latency : null,
    messageId:
      (status === 201 || status === 409) && typeof id === "string" ? id : null,
  };
}
