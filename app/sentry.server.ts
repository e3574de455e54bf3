import * as Sentry from "@sentry/remix";
import { logger } from "~/logger.server";

let initialized = false;

/**
 * Starts Sentry when SENTRY_DSN is set. Without a DSN nothing is set up, so
 * the server makes no network calls to Sentry.
 */
export function initSentry(
  dsn: string | undefined,
  environment?: string,
): boolean {
  if (!dsn || initialized) return initialized;
  Sentry.init({
    dsn,
    environment: environment ?? process.env.NODE_ENV,
    tracesSampleRate: 0,
    sendDefaultPii: false,
  });
  initialized = true;
  logger.info({ environment }, "Sentry error reporting on");
  return true;
}

/** Waits up to `timeoutMs` for queued Sentry events to be sent. */
export async function flushSentry(timeoutMs: number): Promise<void> {
  if (initialized) await Sentry.flush(timeoutMs);
}
