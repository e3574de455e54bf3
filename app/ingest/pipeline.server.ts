import * as Sentry from "@sentry/remix";
import { isDatabaseUnavailable } from "./database-errors.server";
import { logger } from "~/logger.server";
import {
  BodyTooLargeError,
  ClientAbortedError,
  mediaType,
  safeExcerpt,
} from "./body.server";
import type { IngestContext } from "./context.server";
import { errorResult, type InboundRequest, type IngestResult } from "./http";
import { isChannel, type Channel } from "./message";
import { PROVIDER_ROUTES } from "./providers/registry.server";
import type { RequestRecord } from "./request-records.server";
import {
  describeTestEndpoint,
  handleTestEndpointPost,
  TEST_ENDPOINT_PATH,
} from "./test-endpoint.server";

export const WEBHOOK_PATH_PREFIX = "/api/webhooks/";

/** The largest value of a PostgreSQL integer column. */
const MAX_INT4 = 2_147_483_647;

/** Seconds a client should wait before retrying when the database is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Lists every route under /api/webhooks/ for the 404 response. */
export function listWebhookRoutes(): string[] {
  return [
    `GET, POST ${TEST_ENDPOINT_PATH}`,
    ...PROVIDER_ROUTES.map(
      (route) =>
        `${route.methods.join(", ")} ${WEBHOOK_PATH_PREFIX}${route.provider}/${route.channel}`,
    ),
  ];
}

function methodNotAllowed(
  allowed: readonly string[],
  provider: string | null,
): IngestResult {
  return errorResult(
    405,
    "method_not_allowed",
    "method_not_allowed",
    `Method not allowed here; use ${allowed.join(" or ")}.`,
    { provider, headers: { allow: allowed.join(", ") } },
  );
}

/**
 * Returns 415 for a POST body sent with a Content-Encoding other than
 * identity, because the endpoints cannot decode it. Without this check a
 * gzip body would fail as malformed JSON or form data. RFC 9110 section
 * 15.5.16 names 415 for an unsupported content coding, with Accept-Encoding
 * listing the codings the server takes.
 */
function unsupportedContentEncoding(
  request: InboundRequest,
  provider: string | null,
  channel: Channel | null,
): IngestResult | null {
  const encoding = request.header("content-encoding")?.trim().toLowerCase();
  if (!encoding || encoding === "identity") return null;
  return errorResult(
    415,
    "unsupported_media_type",
    "unsupported_content_encoding",
    `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body uncompressed, without a Content-Encoding header.`,
    { provider, channel, headers: { "accept-encoding": "identity" } },
  );
}

async function route(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const path = request.pathname.replace(/\/+$/, "");
  if (path === TEST_ENDPOINT_PATH) {
    if (request.method === "GET" || request.method === "HEAD")
      return describeTestEndpoint();
    if (request.method !== "POST")
      return methodNotAllowed(["GET", "POST"], null);
    const limited = await context.rateLimit?.(request, "test-multichannel");
    if (limited) return limited;
    return (
      unsupportedContentEncoding(request, null, null) ??
      handleTestEndpointPost(request, context)
    );
  }

  const [provider, channel, ...rest] = path
    .slice(WEBHOOK_PATH_PREFIX.length)
    .split("/");
  const match =
    rest.length === 0
      ? PROVIDER_ROUTES.find(
          (r) => r.provider === provider && r.channel === channel,
        )
      : undefined;
  if (!match) {
    return errorResult(
      404,
      "not_found",
      "not_found",
      `No webhook endpoint at ${request.pathname}. Valid routes: ${listWebhookRoutes().join("; ")}.`,
      { extra: { routes: listWebhookRoutes() } },
    );
  }
  if (!match.methods.includes(request.method)) {
    return methodNotAllowed(match.methods, match.provider);
  }
  const limited = await context.rateLimit?.(
    request,
    `${match.provider}/${match.channel}`,
  );
  if (limited) return { ...limited, provider: match.provider };
  if (request.method === "POST") {
    const encoded = unsupportedContentEncoding(
      request,
      match.provider,
      isChannel(match.channel) ? match.channel : null,
    );
    if (encoded) return encoded;
  }
  const result = await match.handle(request, context);
  return result.provider ? result : { ...result, provider: match.provider };
}

/** PostgreSQL codes for text it cannot store (NUL, bad encodings). */
const UNSTORABLE_TEXT_CODES = new Set(["22P05", "22021", "22P02"]);

/**
 * True for a stack overflow in recursive JSON handling (V8's RangeError) or
 * PostgreSQL's stack depth limit (54001) on a deeply nested jsonb value.
 * Handlers reject deep JSON before this; it is the net for any that do not.
 */
function isNestingOverflow(error: unknown): boolean {
  if (error instanceof RangeError)
    return /maximum call stack size exceeded/i.test(error.message);
  return (error as { code?: string } | null)?.code === "54001";
}

/**
 * Handles one request under /api/webhooks/ and never throws: expected
 * failures become their status, an unreachable database a 503, and
 * anything else a 500 reported to Sentry.
 */
export async function handleWebhookRequest(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  try {
    return await route(request, context);
  } catch (error) {
    // Checked before isDatabaseUnavailable: Node's "aborted" error of a
    // request stream has the code ECONNRESET, like a dropped database.
    if (error instanceof ClientAbortedError) {
      logger.warn(
        { err: error, requestId: request.requestId },
        "client closed the connection before the body ended",
      );
      return errorResult(
        400,
        "invalid",
        "incomplete_body",
        "The request body ended early because the connection closed. Send the whole body in one request.",
      );
    }
    if (error instanceof BodyTooLargeError) {
      return errorResult(
        413,
        "too_large",
        "payload_too_large",
        `Body exceeds the limit of ${error.limit} bytes. Send a smaller body or raise BODY_LIMIT_BYTES.`,
        { headers: { connection: "close" } },
      );
    }
    if (isDatabaseUnavailable(error)) {
      logger.error(
        { err: error, requestId: request.requestId },
        "database unavailable during ingest",
      );
      return errorResult(
        503,
        "unavailable",
        "unavailable",
        // A statement that timed out may still commit in PostgreSQL, so the
        // message does not claim that nothing was stored.
        `The database is unavailable or timed out, so the message was not acknowledged. ` +
          `Retry after ${UNAVAILABLE_RETRY_AFTER_SECONDS} seconds; a retry of a message stored meanwhile is reported as a duplicate.`,
        { headers: { "retry-after": String(UNAVAILABLE_RETRY_AFTER_SECONDS) } },
      );
    }
    const code = (error as { code?: string } | null)?.code;
    if (code && UNSTORABLE_TEXT_CODES.has(code)) {
      const reason = error instanceof Error ? error.message : String(error);
      return errorResult(
        400,
        "invalid",
        "invalid_payload",
        `Payload contains text PostgreSQL cannot store (${reason}); remove NUL characters (\\u0000) and send valid UTF-8.`,
        { extra: { issues: [{ path: "(root)", message: reason }] } },
      );
    }
    if (isNestingOverflow(error)) {
      return errorResult(
        400,
        "invalid",
        "invalid_payload",
        "Payload nests too deeply to process; flatten arrays and objects and send it again.",
        {
          extra: { issues: [{ path: "(root)", message: "nesting too deep" }] },
        },
      );
    }
    Sentry.captureException(error, {
      tags: { requestId: request.requestId, path: request.pathname },
    });
    logger.error(
      { err: error, requestId: request.requestId },
      "unexpected ingest error",
    );
    return errorResult(
      500,
      "error",
      "internal_error",
      `Unexpected error; nothing was acknowledged. Retry later and quote request id ${request.requestId}.`,
    );
  }
}

/**
 * Writes the request records for a finished request and its log line.
 * `latencyMs` runs from arrival until the response was handed to the socket.
 */
export function recordWebhookRequest(
  request: InboundRequest,
  result: IngestResult,
  latencyMs: number,
  context: IngestContext,
): void {
  const receivedAt = new Date(Date.now() - latencyMs);
  const failed = result.status >= 400;
  const contentLength = Number(request.header("content-length"));
  const base = {
    requestId: request.requestId,
    receivedAt,
    method: request.method,
    path: request.pathname.slice(0, 512),
    provider: result.provider,
    status: result.status,
    latencyMs,
    excerpt: failed ? safeExcerpt(result.rawBody) : null,
    contentType: mediaType(request.header("content-type")) || null,
    // content_length is an integer column. A larger declared length got 413.
    contentLength:
      Number.isInteger(contentLength) && contentLength <= MAX_INT4
        ? contentLength
        : null,
    clientIp: request.clientIp,
  };
  for (const entry of result.records) {
    const record: RequestRecord = {
      ...base,
      channel: entry.channel ?? null,
      outcome: entry.outcome,
      messageId: entry.messageId ?? null,
      duplicateOfId: entry.duplicateOfId ?? null,
      errorMessage: entry.errorMessage ?? null,
    };
    context.records.add(record);
  }
  const first = result.records[0];
  logger.info(
    {
      requestId: request.requestId,
      method: request.method,
      path: request.pathname,
      provider: result.provider,
      channel: first?.channel ?? null,
      status: result.status,
      outcome: first?.outcome,
      messages: result.records.length,
      messageId: first?.messageId ?? first?.duplicateOfId ?? null,
      latencyMs: Math.round(latencyMs * 1000) / 1000,
    },
    "webhook",
  );
}
