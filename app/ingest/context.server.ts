import type pg from "pg";
import type { Env } from "~/env.server";
import type { RequestRecordWriter } from "./request-records.server";
import type { InboundRequest, IngestResult } from "./http";

/** Checks a request against the rate limits; returns a 429 result or null. */
export type RateLimitCheck = (
  request: InboundRequest,
  routeKey: string,
) => Promise<IngestResult | null>;

/** The state of the running server that ingest handlers use. */
export interface IngestContext {
  env: Env;
  pool: pg.Pool;
  records: RequestRecordWriter;
  rateLimit: RateLimitCheck | null;
  /** The current time; tests of timestamped signatures replace it. */
  now: () => Date;
}
