/**
 * Security headers sent with every response: pages, assets, resource
 * routes and webhooks. server/index.ts sets them on each Node response
 * before routing, and entry.server.tsx replaces the Content-Security-Policy
 * of HTML documents with one that carries the per-request script nonce.
 */

export const STATIC_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/**
 * Builds the Content-Security-Policy. Scripts must come from this origin or carry
 * `nonce`, which Remix puts on its inline hydration scripts. Styles allow
 * 'unsafe-inline' because React and recharts write style="" attributes,
 * which a nonce cannot cover; stylesheets still come only from this origin.
 * In development Vite's HMR client also needs a WebSocket connection.
 */
export function contentSecurityPolicy(
  options: { nonce?: string; development?: boolean } = {},
): string {
  const scriptSources = ["'self'"];
  if (options.nonce) scriptSources.push(`'nonce-${options.nonce}'`);
  const connectSources = ["'self'"];
  if (options.development) connectSources.push("ws:");
  return [
    "default-src 'self'",
    `script-src ${scriptSources.join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connectSources.join(" ")}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Returns every security header, with the CSP for `nonce` when given. */
export function securityHeaders(
  options: { nonce?: string; development?: boolean } = {},
): Record<string, string> {
  return {
    ...STATIC_SECURITY_HEADERS,
    "Content-Security-Policy": contentSecurityPolicy(options),
  };
}
