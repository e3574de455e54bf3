import { getApp, ShuttingDownError, type AppContext } from "~/boot.server";
import { clientIpOf } from "./client-ip.server";
import type { InboundRequest } from "./http";
import { trackRequest } from "./in-flight.server";
import { requestIdOf } from "./node-adapter.server";
import { handleWebhookRequest, recordWebhookRequest } from "./pipeline.server";

async function* chunksOf(
  stream: ReadableStream<Uint8Array>,
): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Runs the ingest pipeline for a Fetch Request, as the Remix resource route
 * receives it under `remix-serve`. Latency here ends when the Response is
 * built, a little before it reaches the socket.
 */
export function handleFetchWebhook(
  fetchRequest: Request,
  clientAddress: string,
): Promise<Response> {
  return trackRequest(() => handleTracked(fetchRequest, clientAddress));
}

async function handleTracked(
  fetchRequest: Request,
  clientAddress: string,
): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdOf(
    fetchRequest.headers.get("x-request-id") ?? undefined,
  );
  const url = new URL(fetchRequest.url);
  const request: InboundRequest = {
    method: fetchRequest.method,
    url,
    // A Fetch Request only carries the parsed URL, so the raw target is lost.
    target: url.pathname + url.search,
    pathname: url.pathname,
    header: (name) => fetchRequest.headers.get(name) ?? undefined,
    clientIp: clientAddress,
    body: fetchRequest.body ? chunksOf(fetchRequest.body) : null,
    startedAt,
    requestId,
  };
  let app: AppContext;
  try {
    app = await getApp();
  } catch (error) {
    if (!(error instanceof ShuttingDownError)) throw error;
    // The same 503 that server/index.ts sends once it is stopping, so the
    // provider retries elsewhere.
    return new Response(
      JSON.stringify({
        error: "unavailable",
        message: "The server is shutting down; retry after 5 seconds.",
      }),
      {
        status: 503,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "retry-after": "5",
          connection: "close",
          "x-request-id": requestId,
        },
      },
    );
  }
  request.clientIp = clientIpOf(
    clientAddress,
    request.header("x-forwarded-for"),
    app.env.TRUST_PROXY,
  );
  const result = await handleWebhookRequest(request, app);
  const bodyless = fetchRequest.method === "HEAD";
  const response = new Response(bodyless ? null : result.body, {
    status: result.status,
    headers: { ...result.headers, "x-request-id": requestId },
  });
  recordWebhookRequest(request, result, performance.now() - startedAt, app);
  return response;
}
