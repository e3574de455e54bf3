import type { InboundRequest } from "./http";

/**
 * Request headers kept with a stored message. The list is an allow-list so
 * credentials (Authorization, Cookie, signature headers) are never stored.
 */
export const STORED_HEADER_NAMES = [
  "content-type",
  "content-length",
  "user-agent",
  "x-request-id",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "i-twilio-idempotency-token",
  "webhook-id",
  "webhook-timestamp",
  "svix-id",
  "svix-timestamp",
  "x-replay-of",
] as const;

export function selectHeaders(request: InboundRequest): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of STORED_HEADER_NAMES) {
    const value = request.header(name);
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Header naming the stored message that a replayed request re-sends. */
export const REPLAY_OF_HEADER = "x-replay-of";

const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns the UUID in X-Replay-Of, null when absent, "invalid" when malformed. */
export function replayOfHeader(
  request: InboundRequest,
): string | null | "invalid" {
  const value = request.header(REPLAY_OF_HEADER);
  if (value === undefined || value === "") return null;
  return UUID_PATTERN.test(value) ? value.toLowerCase() : "invalid";
}
