import type { Env } from "~/env.server";

/**
 * Cross-site request check for state-changing requests. A POST (or any
 * method other than GET, HEAD and OPTIONS) is accepted only when its Origin
 * header, or its Referer when Origin is absent, names one of our own
 * origins: the origin the request was sent to, PUBLIC_URL, and with
 * TRUST_PROXY the X-Forwarded-Host/-Proto origin. A request with neither
 * header is rejected too. Webhook paths are exempt because providers post
 * from their own servers and signatures protect those routes.
 */

export const WEBHOOK_PATH_PREFIX = "/api/webhooks/";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

type OriginConfig = Pick<Env, "PUBLIC_URL" | "TRUST_PROXY">;

export interface OriginCheckRequest {
  method: string;
  /** Path and query of the request target. */
  path: string;
  /** "http:" or "https:", the scheme the server received the request on. */
  protocol: string;
  header: (name: string) => string | null | undefined;
}

function originOf(value: string): string | null {
  try {
    const origin = new URL(value).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

function firstValue(value: string | null | undefined): string | undefined {
  const first = value?.split(",")[0].trim();
  return first ? first : undefined;
}

/** Returns the origins that a same-site form on this app posts from. */
export function ownOrigins(
  request: OriginCheckRequest,
  config: OriginConfig,
): Set<string> {
  const origins = new Set<string>();
  const host = request.header("host");
  if (host) {
    const origin = originOf(`${request.protocol}//${host}`);
    if (origin) origins.add(origin);
  }
  if (config.PUBLIC_URL) {
    const origin = originOf(config.PUBLIC_URL);
    if (origin) origins.add(origin);
  }
  if (config.TRUST_PROXY) {
    const forwardedHost = firstValue(request.header("x-forwarded-host"));
    const forwardedProto =
      firstValue(request.header("x-forwarded-proto")) ??
      request.protocol.replace(/:$/, "");
    if (forwardedHost) {
      const origin = originOf(`${forwardedProto}://${forwardedHost}`);
      if (origin) origins.add(origin);
    }
  }
  return origins;
}

/**
 * Returns why the request is rejected as cross-site, or null when it may
 * go on: safe methods, webhook paths, and requests from our own origin.
 */
export function crossSiteRejection(
  request: OriginCheckRequest,
  config: OriginConfig,
): string | null {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return null;
  if (request.path.startsWith(WEBHOOK_PATH_PREFIX)) return null;

  const originHeader = request.header("origin");
  const refererHeader = request.header("referer");
  let source: string | null;
  let sourceName: string;
  if (originHeader) {
    source = originOf(originHeader);
    sourceName = "Origin";
  } else if (refererHeader) {
    source = originOf(refererHeader);
    sourceName = "Referer";
  } else {
    return "The request has neither an Origin nor a Referer header, so it cannot be told apart from a cross-site request. Send it from the dashboard, or set Origin to the dashboard's URL.";
  }
  if (source !== null && ownOrigins(request, config).has(source)) return null;
  return `The ${sourceName} header (${source ?? "invalid"}) is not this dashboard's origin, so the request was rejected as cross-site. Send it from the dashboard; behind a proxy, set PUBLIC_URL or TRUST_PROXY.`;
}

/** Applies crossSiteRejection to a Fetch API Request. */
export function crossSiteRejectionOf(
  request: Request,
  config: OriginConfig,
): string | null {
  const url = new URL(request.url);
  return crossSiteRejection(
    {
      method: request.method,
      path: url.pathname + url.search,
      protocol: url.protocol,
      // Fetch Requests may drop Host; the URL was built from it.
      header: (name) =>
        name === "host" ? url.host : request.headers.get(name),
    },
    config,
  );
}

/** Throws a 403 response when the request is cross-site. */
export function assertSameOrigin(request: Request, config: OriginConfig): void {
  const rejection = crossSiteRejectionOf(request, config);
  if (rejection === null) return;
  throw new Response(
    JSON.stringify({ error: "cross_site_request", message: rejection }),
    {
      status: 403,
      headers: { "Content-Type": "application/json; charset=utf-8" },
    },
  );
}
