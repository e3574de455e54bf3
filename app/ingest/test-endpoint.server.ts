import { charsetOf, mediaType, readBody } from "./body.server";
import { contentHash } from "./canonical-json";
import type { IngestContext } from "./context.server";
import {
  errorResult,
  jsonResult,
  type InboundRequest,
  type IngestResult,
} from "./http";
import { jsonDepth, MAX_JSON_DEPTH } from "./json-depth";
import { indexableKey } from "./index-key.server";
import { jsonTypeOf } from "./providers/common.server";
import { findUnstorableText } from "./json-text";
import { CHANNELS, type Channel, type NormalizedMessage } from "./message";
import { storeMessage } from "./store.server";
import {
  issuesOf,
  TEST_PAYLOAD_EXAMPLES,
  testPayloadSchema,
  type TestPayload,
} from "./test-payload";
import { replayOfHeader, selectHeaders } from "./request-headers.server";

export const TEST_ENDPOINT_PATH = "/api/webhooks/test-multichannel";

/** Builds the GET description: one example per channel and every status. */
export function describeTestEndpoint(): IngestResult {
  // A GET that only reads the description is not a webhook, so it is not
  // recorded.
  const result = jsonResult(
    200,
    {
      endpoint: TEST_ENDPOINT_PATH,
      method: "POST",
      description:
        "Stores one message for the email, whatsapp or sms channel. The JSON body " +
        "is validated against the channel's schema; a message is stored once per " +
        "(channel, messageId), or per content hash within the dedup window when " +
        "messageId is absent.",
      examples: Object.values(TEST_PAYLOAD_EXAMPLES),
      responses: {
        201: "stored: { id, channel, dedupKey, receivedAt, latencyMs }",
        400: "invalid JSON or schema: { error: 'invalid_payload', message, issues: [{ path, message }] }",
        405: "method other than GET or POST",
        409: "duplicate: { error: 'duplicate', message, duplicateOf, firstReceivedAt }",
        413: "body larger than the limit",
        415: "Content-Type other than application/json, a charset other than utf-8, a malformed Content-Type, or a Content-Encoding other than identity",
        429: "rate limited; see Retry-After",
        503: "database unavailable; see Retry-After",
      },
    },
    { outcome: "verified" },
  );
  return { ...result, records: [] };
}

// decode() without { stream: true } starts fresh on each call, so one
// decoder serves every request.
const utf8 = new TextDecoder("utf-8", { fatal: true });

function invalid(
  message: string,
  issues: { path: string; message: string }[],
  channel: Channel | null = null,
): IngestResult {
  return errorResult(400, "invalid", "invalid_payload", message, {
    channel,
    extra: { issues },
  });
}

/**
 * Returns the channel a rejected payload names, when it is a known one, so
 * the dashboard counts the rejection under that channel.
 */
function declaredChannel(json: unknown): Channel | null {
  if (typeof json !== "object" || json === null) return null;
  const channel: unknown = (json as { channel?: unknown }).channel;
  return CHANNELS.find((known) => known === channel) ?? null;
}

/** Handles POST /api/webhooks/test-multichannel. */
export async function handleTestEndpointPost(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const type = mediaType(request.header("content-type"));
  if (type !== "application/json" && !type.endsWith("+json")) {
    return errorResult(
      415,
      "unsupported_media_type",
      "unsupported_media_type",
      `Content-Type must be application/json, got ${type === "" ? "none" : JSON.stringify(type)}. ` +
        `Send the body as JSON with the header Content-Type: application/json.`,
    );
  }
  // The body is always decoded as UTF-8, so another declared charset would
  // store mis-decoded text or fail as invalid UTF-8.
  let charset: string | null;
  try {
    charset = charsetOf(request.header("content-type"));
  } catch (error) {
    return errorResult(
      415,
      "unsupported_media_type",
      "unsupported_media_type",
      `Content-Type ${JSON.stringify(request.header("content-type"))} is malformed ` +
        `(${error instanceof Error ? error.message : String(error)}). ` +
        `Send Content-Type: application/json, with parameters only as name=value, such as charset=utf-8.`,
    );
  }
  if (charset !== null && charset !== "utf-8" && charset !== "utf8") {
    return errorResult(
      415,
      "unsupported_media_type",
      "unsupported_media_type",
      `Content-Type charset must be utf-8, got ${JSON.stringify(charset)}. ` +
        `The body must be UTF-8 JSON, so encode it as UTF-8 and send charset=utf-8 or no charset.`,
    );
  }
  const body = await readBody(
    request.body,
    context.env.BODY_LIMIT_BYTES,
    request.header("content-length"),
  );

  const depth = jsonDepth(body);
  if (depth > MAX_JSON_DEPTH) {
    return withExcerpt(
      invalid(
        `JSON nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects; flatten the payload.`,
        [{ path: "(root)", message: `nesting exceeds ${MAX_JSON_DEPTH}` }],
      ),
      body,
    );
  }

  let text: string;
  let json: unknown;
  try {
    text = utf8.decode(body);
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return withExcerpt(
      invalid(`Body is not valid UTF-8 JSON: ${reason}`, [
        { path: "(root)", message: reason },
      ]),
      body,
    );
  }

  const unstorable = findUnstorableText(text, json);
  if (unstorable) {
    return withExcerpt(
      invalid(
        `Payload is invalid. ${unstorable.path}: ${unstorable.message}`,
        [unstorable],
        declaredChannel(json),
      ),
      body,
    );
  }

  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const message = `must be a JSON object with a channel field, got ${jsonTypeOf(json)}`;
    return withExcerpt(
      invalid(`Payload is invalid. (root): ${message}`, [
        { path: "(root)", message },
      ]),
      body,
    );
  }

  const parsed = testPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const summary = issues
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join("; ");
    return withExcerpt(
      invalid(`Payload is invalid. ${summary}`, issues, declaredChannel(json)),
      body,
    );
  }

  const replayOfId = replayOfHeader(request);
  if (replayOfId === "invalid") {
    return invalid("X-Replay-Of must be the UUID of a stored message", [
      { path: "headers.x-replay-of", message: "must be a UUID" },
    ]);
  }

  const message = toMessage(parsed.data, json, request, replayOfId);
  message.payloadJson = text;
  const stored = await storeMessage(
    context.pool,
    message,
    context.env.DEDUP_WINDOW_HOURS,
  );
  const latencyMs = roundMs(performance.now() - request.startedAt);
  if (!stored.inserted) {
    return jsonResult(
      409,
      {
        error: "duplicate",
        message: `This ${message.channel} message was already received; it is stored as ${stored.id}.`,
        duplicateOf: stored.id,
        firstReceivedAt: stored.receivedAt.toISOString(),
        dedupKey: indexableKey(message.dedupKey),
      },
      {
        outcome: "duplicate",
        channel: message.channel,
        duplicateOfId: stored.id,
      },
    );
  }
  return jsonResult(
    201,
    {
      id: stored.id,
      channel: message.channel,
      dedupKey: indexableKey(message.dedupKey),
      receivedAt: stored.receivedAt.toISOString(),
      latencyMs,
    },
    { outcome: "accepted", channel: message.channel, messageId: stored.id },
  );
}

function withExcerpt(result: IngestResult, body: Buffer): IngestResult {
  return { ...result, rawBody: body };
}

export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Returns the dedup key of a test payload: its messageId, else its content hash. */
export function testDedupKey(
  payload: TestPayload,
  json: unknown,
): {
  key: string;
  kind: "id" | "hash";
} {
  if (payload.messageId !== undefined)
    return { key: `id:${payload.messageId}`, kind: "id" };
  return { key: `sha256:${contentHash(json)}`, kind: "hash" };
}

function toMessage(
  payload: TestPayload,
  json: unknown,
  request: InboundRequest,
  replayOfId: string | null,
): NormalizedMessage {
  const dedup = testDedupKey(payload, json);
  const common = {
    channel: payload.channel,
    provider: "test",
    dedupKey: dedup.key,
    dedupKind: dedup.kind,
    externalId: payload.messageId ?? null,
    sender: payload.from,
    payload: json,
    rawBody: null,
    headers: selectHeaders(request),
    replayOfId,
  };
  switch (payload.channel) {
    case "email":
      return {
        ...common,
        recipient: Array.isArray(payload.to)
          ? payload.to.join(", ")
          : payload.to,
        subject: payload.subject,
        text: payload.text ?? stripTags(payload.html ?? ""),
        media: [],
      };
    case "whatsapp":
      return {
        ...common,
        recipient: payload.to,
        subject: null,
        text: payload.text ?? "",
        media: payload.media ?? [],
      };
    case "sms":
      return {
        ...common,
        recipient: payload.to,
        subject: null,
        text: payload.text,
        media: [],
      };
  }
}

/** Renders HTML as plain text for the preview and search. */
export function stripTags(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}
