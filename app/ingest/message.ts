/** The channels a message can arrive on. */
export const CHANNELS = ["email", "whatsapp", "sms"] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}

/** Metadata of one media item or attachment; `contentBase64` only when small. */
export interface MediaItem {
  /** The provider's media id, for providers that send ids instead of URLs. */
  id?: string;
  url?: string;
  contentType?: string;
  name?: string;
  size?: number;
  contentBase64?: string;
}

/** The length of the stored text preview, which the message search covers. */
export const TEXT_PREVIEW_LENGTH = 2000;

/** Returns the stored preview of `text`: NUL removed, at most TEXT_PREVIEW_LENGTH. */
export function previewOf(text: string): string {
  // PostgreSQL text cannot hold NUL, which JSON and form bodies may carry.
  const clean = text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
  return clean.length > TEXT_PREVIEW_LENGTH
    ? clean.slice(0, TEXT_PREVIEW_LENGTH)
    : clean;
}

/**
 * A message in the common shape every endpoint maps its input to before it
 * is stored. `dedupKey` is unique per channel.
 */
export interface NormalizedMessage {
  channel: Channel;
  provider: string;
  dedupKey: string;
  dedupKind: "id" | "hash";
  externalId: string | null;
  sender: string;
  recipient: string;
  subject: string | null;
  text: string;
  payload: unknown;
  /**
   * `payload` as the JSON text it was parsed from, when the caller has it,
   * so it is stored without serializing it again.
   */
  payloadJson?: string;
  rawBody: Buffer | null;
  headers: Record<string, string>;
  media: MediaItem[];
  replayOfId: string | null;
}

/**
 * The outcome of a request, as written to request_record.outcome. Every outcome
 * other than accepted, duplicate, status_event and verified counts as a
 * rejection in the dashboard.
 */
export const OUTCOMES = [
  "accepted",
  "duplicate",
  "status_event",
  "verified",
  "invalid",
  "unsupported_media_type",
  "too_large",
  "method_not_allowed",
  "not_found",
  "unauthorized",
  "forbidden",
  "rate_limited",
  "not_configured",
  "unavailable",
  "error",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const SUCCESS_OUTCOMES: readonly Outcome[] = [
  "accepted",
  "duplicate",
  "status_event",
  "verified",
];
