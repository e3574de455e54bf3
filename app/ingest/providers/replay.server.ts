/**
 * Re-sends a stored provider message through its provider endpoint, signed
 * with the configured secret.
 *
 * TODO: implement per provider; until then provider messages cannot be
 * replayed.
 */
export interface StoredProviderMessage {
  id: string;
  provider: string;
  channel: string;
  payload: unknown;
  rawBody: Buffer | null;
  headers: Record<string, string>;
}

export interface ProviderReplayRequest {
  /** Path under the app, such as /api/webhooks/twilio/sms. */
  path: string;
  method: "POST";
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Builds the signed request that re-sends `message`. With `asNew`, the
 * provider's message id is replaced by a fresh one so it is stored again.
 * Returns null when the provider cannot be replayed.
 */
export function buildProviderReplay(
  _message: StoredProviderMessage,
  _options: { asNew: boolean; baseUrl: string },
): ProviderReplayRequest | null {
  return null;
}
