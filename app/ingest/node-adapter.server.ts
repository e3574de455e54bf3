import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getApp } from "~/boot.server";
import { logger } from "~/logger.server";
import { clientIpOf } from "./client-ip.server";
import type { InboundRequest } from "./http";
import { handleWebhookRequest, recordWebhookRequest } from "./pipeline.server";

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** Returns the client's X-Request-Id when it is 1 to 128 safe characters, else a new UUID. */
export function requestIdOf(value: string | undefined): string {
  return value !== undefined && REQUEST_ID_PATTERN.test(value)
    ? value
    : randomUUID();
}

function headerOf(request: IncomingMessage) {
  return (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
}

function parseUrl(
  target: string,
  header: (name: string) => string | undefined,
): URL {
  try {
    return new URL(target, `http://${header("host") ?? "localhost"}`);
  } catch {
    return new URL(target, "http://localhost");
  }
}

/**
 * A path that URL parsing returns unchanged: word characters, `-` and `/`
 * only, and no leading `//`, which URL would read as a host.
 */
const PLAIN_PATH = /^\/(?!\/)[\w/-]*$/;

/** Returns the pathname of a request target, parsing it as a URL only when needed. */
export function pathnameOf(
  target: string,
  header: (name: string) => string | undefined,
): string {
  const queryStart = target.indexOf("?");
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  return PLAIN_PATH.test(path) ? path : parseUrl(target, header).pathname;
}

/** Bytes of a rejected oversized body read and thrown away before closing. */
const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Reads and drops the rest of an oversized body so that a client still
 * sending gets to read the 413 instead of a broken pipe, then closes the
 * connection once DISCARD_LIMIT_BYTES more have arrived.
 */
function discardRest(incoming: IncomingMessage): void {
  if (incoming.complete) return;
  let discarded = 0;
  incoming.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) incoming.socket.destroy();
  });
  incoming.resume();
}

/**
 * Serves a request under /api/webhooks/ straight from Node's HTTP server,
 * without building a Fetch Request. Under remix-serve the resource route
 * runs the same pipeline.
 */
export async function handleNodeWebhook(
  incoming: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const startedAt = performance.now();
  const header = headerOf(incoming);
  const requestId = requestIdOf(header("x-request-id"));
  const target = incoming.url ?? "/";
  // Most requests only need the pathname, so the full URL is parsed on
  // first use.
  let url: URL | undefined;
  const request: InboundRequest = {
    method: incoming.method ?? "GET",
    get url() {
      url ??= parseUrl(target, header);
      return url;
    },
    target,
    pathname: pathnameOf(target, header),
    header,
    clientIp: incoming.socket.remoteAddress ?? "",
    body: incoming,
    startedAt,
    requestId,
  };
  try {
    const app = await getApp();
    request.clientIp = clientIpOf(
      incoming.socket.remoteAddress,
      header("x-forwarded-for"),
      app.env.TRUST_PROXY,
    );
    const result = await handleWebhookRequest(request, app);
    response.on("finish", () => {
      recordWebhookRequest(request, result, performance.now() - startedAt, app);
    });
    if (result.status === 413) discardRest(incoming);
    response.writeHead(result.status, {
      ...result.headers,
      "x-request-id": requestId,
    });
    response.end(result.body);
  } catch (error) {
    // Only a failed boot gets here, because handleWebhookRequest catches
    // every error of its own.
    logger.error({ err: error, requestId }, "webhook server not ready");
    response.writeHead(503, {
      "content-type": "application/json",
      "retry-after": "5",
    });
    response.end(
      JSON.stringify({
        error: "unavailable",
        message: "The server is not ready; retry shortly.",
      }),
    );
  }
}
