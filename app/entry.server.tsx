import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import * as Sentry from "@sentry/remix";
import type {
  AppLoadContext,
  EntryContext,
  HandleErrorFunction,
} from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { NonceProvider } from "~/components/nonce";
import { logger } from "~/logger.server";
import { securityHeaders } from "~/security/headers.server";

// The Node server in server/ reaches these through the build's entry module,
// so it shares one copy of the app state with the Remix routes.
export { getApp, stopApp } from "~/boot.server";
export { handleHealthRequest } from "~/health.server";
export { handleNodeWebhook } from "~/ingest/node-adapter.server";
export { applySecurityPolicy } from "~/security/node-guard.server";

const ABORT_DELAY_MS = 5_000;

/**
 * Reports unexpected errors from loaders, actions and rendering to Sentry.
 * Aborted requests (the client went away) are not errors.
 */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return;
  // A thrown 4xx response (an unknown page, a missing message) is an
  // expected outcome, not an error to report.
  if (isRouteErrorResponse(error) && error.status < 500) return;
  logger.error(
    { err: error, path: new URL(request.url).pathname },
    "unhandled route error",
  );
  Sentry.captureException(error);
};

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  _loadContext: AppLoadContext,
) {
  // A fresh nonce per document lets Remix's inline hydration scripts run
  // under a CSP that allows no other inline script.
  const nonce = randomBytes(16).toString("base64");
  const headers = securityHeaders({
    nonce,
    development: process.env.NODE_ENV === "development",
  });
  for (const [name, value] of Object.entries(headers)) {
    responseHeaders.set(name, value);
  }
  const readyEvent = isbot(request.headers.get("user-agent") ?? "")
    ? "onAllReady"
    : "onShellReady";
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <RemixServer
          context={remixContext}
          url={request.url}
          abortDelay={ABORT_DELAY_MS}
          nonce={nonce}
        />
      </NonceProvider>,
      {
        nonce,
        [readyEvent]() {
          shellRendered = true;
          const body = new PassThrough();
          const stream = createReadableStreamFromReadable(body);
          responseHeaders.set("Content-Type", "text/html; charset=utf-8");
          resolve(
            new Response(stream, {
              headers: responseHeaders,
              status: responseStatusCode,
            }),
          );
          pipe(body);
        },
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          if (shellRendered) logger.error({ err: error }, "render error");
        },
      },
    );
    setTimeout(abort, ABORT_DELAY_MS);
  });
}
