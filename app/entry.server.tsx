import { PassThrough } from "node:stream";
import * as Sentry from "@sentry/remix";
import type {
  AppLoadContext,
  EntryContext,
  HandleErrorFunction,
} from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { logger } from "~/logger.server";

// The Node server in server/ reaches these through the build's entry module,
// so it shares one copy of the app state with the Remix routes.
export { getApp, stopApp } from "~/boot.server";
export { handleHealthRequest } from "~/health.server";
export { handleNodeWebhook } from "~/ingest/node-adapter.server";
export { initSentry } from "~/sentry.server";

const ABORT_DELAY_MS = 5_000;

/**
 * Reports unexpected errors from loaders, actions and rendering to Sentry.
 * Aborted requests (the client went away) are not errors.
 */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return;
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
  const readyEvent = isbot(request.headers.get("user-agent") ?? "")
    ? "onAllReady"
    : "onShellReady";
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer
        context={remixContext}
        url={request.url}
        abortDelay={ABORT_DELAY_MS}
      />,
      {
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
