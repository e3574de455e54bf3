import type { IncomingMessage, ServerResponse } from "node:http";
import { getApp } from "~/boot.server";
import { logger } from "~/logger.server";

export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";

/** How long /readyz waits for `SELECT 1` before it reports not ready. */
export const READY_TIMEOUT_MS = 1000;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  response.end(JSON.stringify(body));
}

/**
 * Checks that the database returns `SELECT 1` within READY_TIMEOUT_MS and
 * returns null when it does, else the cause.
 */
export async function databaseProblem(): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`SELECT 1 timed out after ${READY_TIMEOUT_MS} ms`),
      READY_TIMEOUT_MS,
    );
  });
  const query = getApp()
    .then((app) => app.pool.query("SELECT 1"))
    .then(
      () => null,
      (error: unknown) =>
        `SELECT 1 failed: ${error instanceof Error ? error.message || (error as { code?: string }).code : String(error)}`,
    );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The cause the last failed check logged, so an outage is logged once. */
let loggedProblem: string | null = null;

/**
 * Serves GET /healthz (the process is alive: always 200) and GET /readyz
 * (200 when `SELECT 1` succeeds, else 503 with the cause). Returns false
 * for any other path so the caller can route the request on.
 */
export function handleHealthRequest(
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const path = (request.url ?? "").split("?")[0];
  if (path === HEALTH_PATH) {
    sendJson(response, 200, { status: "ok", uptimeSeconds: process.uptime() });
    return true;
  }
  if (path !== READY_PATH) return false;
  void databaseProblem().then((problem) => {
    if (problem === null) {
      if (loggedProblem !== null) logger.info("readiness check passes again");
      loggedProblem = null;
      sendJson(response, 200, { status: "ready", database: "ok" });
      return;
    }
    if (problem !== loggedProblem) {
      logger.warn({ cause: problem }, "readiness check failed");
      loggedProblem = problem;
    }
    response.setHeader("retry-after", "5");
    sendJson(response, 503, {
      status: "unavailable",
      database: "unreachable",
      message: `The database is unreachable: ${problem}.`,
    });
  });
  return true;
}
