import type { Channel, Outcome } from "./message";

/**
 * An HTTP request in the form the ingest pipeline reads. The Node server builds it
 * straight from `http.IncomingMessage`, and the Remix resource route from a
 * Fetch `Request`, so both paths run the same code.
 */
export interface InboundRequest {
  method: string;
  /**
   * The URL the server saw; the host comes from the Host header. The Node
   * adapter parses it on first access, so read `pathname` where that is enough.
   */
  url: URL;
  /**
   * The request target (path and query) exactly as received. URL parsing
   * re-encodes some characters of a query (`'` becomes `%27`), which breaks
   * signatures computed over the URL.
   */
  target: string;
  /** `url.pathname`, available without parsing the URL. */
  pathname: string;
  /** Returns a header value by lower-case name. */
  header: (name: string) => string | undefined;
  clientIp: string;
  body: AsyncIterable<Uint8Array> | null;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  requestId: string;
}

/** One row of request_record that a request produces, beyond shared fields. */
export interface RecordEntry {
  outcome: Outcome;
  channel?: Channel | null;
  messageId?: string | null;
  duplicateOfId?: string | null;
  errorMessage?: string | null;
}

/** The result of a handler: the HTTP response and what to record about it. */
export interface IngestResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  provider: string | null;
  /**
   * One entry per request_record row: usually one, one per message for a
   * batch, none for a request that is not a webhook (a description GET).
   */
  records: RecordEntry[];
  /** The raw body, kept for the excerpt of a rejected request. */
  rawBody?: Buffer | null;
}

export const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
};

/** Builds a JSON result with one record entry. */
export function jsonResult(
  status: number,
  body: unknown,
  entry: RecordEntry,
  options: { provider?: string | null; headers?: Record<string, string> } = {},
): IngestResult {
  return {
    status,
    headers: { ...JSON_HEADERS, ...options.headers },
    body: JSON.stringify(body),
    provider: options.provider ?? null,
    records: [entry],
  };
}

/** Builds the JSON error body every rejection uses. */
export function errorResult(
  status: number,
  outcome: Outcome,
  error: string,
  message: string,
  options: {
    provider?: string | null;
    channel?: Channel | null;
    headers?: Record<string, string>;
    extra?: Record<string, unknown>;
  } = {},
): IngestResult {
  return jsonResult(
    status,
    { error, message, ...options.extra },
    { outcome, channel: options.channel ?? null, errorMessage: message },
    options,
  );
}
