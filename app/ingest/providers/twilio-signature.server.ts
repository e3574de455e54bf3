/**
 * Twilio request validation. Twilio signs every webhook with
 * X-Twilio-Signature = base64 HMAC-SHA1(auth token, public URL + each POST
 * parameter name and value, sorted by name). There is no timestamp, so a
 * captured request can be replayed; dedup on MessageSid makes a replay a
 * duplicate. Source: twilio.com/docs/usage/webhooks/webhooks-security.
 */
import type { Env } from "~/env.server";
import type { InboundRequest } from "../http";
import { hmac, safeEqual } from "./common.server";

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";

/** Computes X-Twilio-Signature for `url` and the POST `params`. */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Iterable<[string, string]>,
): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of params) {
    const values = byName.get(name) ?? [];
    values.push(value);
    byName.set(name, values);
  }
  let data = url;
  for (const name of [...byName.keys()].sort()) {
    for (const value of byName.get(name)!.sort()) data += name + value;
  }
  return hmac("sha1", authToken, data).toString("base64");
}

/**
 * Returns `url` with its default port added when absent, or removed when
 * present. Twilio's SDKs accept either form, because Twilio signs the URL
 * as configured and a proxy may add or drop the port.
 */
export function withToggledPort(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const defaultPort = parsed.protocol === "https:" ? "443" : "80";
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (authority === undefined) return null;
  const rest = url.slice(url.indexOf(authority) + authority.length);
  const scheme = url.slice(0, url.indexOf("://") + 3);
  if (authority.endsWith(`:${defaultPort}`)) {
    return scheme + authority.slice(0, -defaultPort.length - 1) + rest;
  }
  if (/:\d+$/.test(authority)) return null;
  return `${scheme}${authority}:${defaultPort}${rest}`;
}

/**
 * Checks `signature` against `url` with and without its default port, in
 * constant time per comparison.
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: Iterable<[string, string]>,
  signature: string,
): boolean {
  const pairs = [...params];
  const candidates = [url, withToggledPort(url)].filter(
    (candidate): candidate is string => candidate !== null,
  );
  let matched = false;
  for (const candidate of candidates) {
    const expected = twilioSignature(authToken, candidate, pairs);
    if (safeEqual(expected, signature)) matched = true;
  }
  return matched;
}

function firstValue(header: string | undefined): string | undefined {
  const value = header?.split(",")[0]?.trim();
  return value === "" ? undefined : value;
}

/**
 * Rebuilds the URL Twilio signed. PUBLIC_URL wins when set; with
 * TRUST_PROXY=true X-Forwarded-Proto and X-Forwarded-Host name the scheme and
 * host; otherwise the Host header with http. The path and query are the
 * request target exactly as received.
 */
export function publicUrlOf(request: InboundRequest, env: Env): string {
  const target = request.target.startsWith("/")
    ? request.target
    : request.url.pathname + request.url.search;
  if (env.PUBLIC_URL !== undefined) {
    return env.PUBLIC_URL.replace(/\/+$/, "") + target;
  }
  const host = request.header("host") ?? request.url.host;
  if (env.TRUST_PROXY) {
    const proto = firstValue(request.header("x-forwarded-proto")) ?? "http";
    const forwardedHost = firstValue(request.header("x-forwarded-host"));
    return `${proto}://${forwardedHost ?? host}${target}`;
  }
  return `http://${host}${target}`;
}
