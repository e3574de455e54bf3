import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { env } from "~/env.server";
import { logger } from "~/logger.server";
import { securityHeaders } from "./headers.server";
import { crossSiteRejection } from "./origin.server";

const headerEntries = new Map<boolean, [string, string][]>();

/** Returns the security headers as entries, built once per mode. */
function headerEntriesFor(development: boolean): [string, string][] {
  let entries = headerEntries.get(development);
  if (!entries) {
    entries = Object.entries(securityHeaders({ development }));
    headerEntries.set(development, entries);
  }
  return entries;
}

/**
 * The first step for every request the Node server receives: sets the
 * security headers on the response, then rejects cross-site state-changing
 * requests with 403. Returns false when it has already sent the response.
 *
 * Headers set here with setHeader() are merged into the later writeHead()
 * of sirv, Remix and the webhook pipeline. The writeHead() value wins on a
 * clash, so HTML documents can send their own Content-Security-Policy with
 * a nonce.
 */
export function applySecurityPolicy(
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const config = env();
  for (const [name, value] of headerEntriesFor(
    config.NODE_ENV === "development",
  )) {
    response.setHeader(name, value);
  }

  const rejection = crossSiteRejection(
    {
      method: request.method ?? "GET",
      path: request.url ?? "/",
      protocol: (request.socket as TLSSocket).encrypted ? "https:" : "http:",
      header: (name) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
    config,
  );
  if (rejection === null) return true;

  logger.warn(
    {
      method: request.method,
      path: request.url?.split("?")[0],
      origin: request.headers.origin,
    },
    "rejected cross-site request",
  );
  // The body is read and dropped so the client can read the response.
  request.resume();
  response.writeHead(403, { "Content-Type": "application/json" });
  response.end(
    JSON.stringify({ error: "cross_site_request", message: rejection }),
  );
  return false;
}
