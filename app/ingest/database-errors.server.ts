// Error codes of node:net and PostgreSQL that mean the database cannot be
// reached, as opposed to errors about one statement or its data.
const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  // object_not_in_prerequisite_state, which a connection attempt gets while
  // the database is not accepting connections (ALLOW_CONNECTIONS false).
  "55000",
]);

/** True for errors that mean the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && (CONNECTION_ERROR_CODES.has(code) || code.startsWith("08")))
    return true;
  // "timeout expired" is pg.Client's connect timeout, "timeout exceeded
  // when trying to connect" pg.Pool's, and "Query read timeout" query_timeout.
  // pg.Pool raises "Cannot use a pool after calling end" once shutdown has
  // closed it, for a request that was still in flight.
  return /timeout exceeded when trying to connect|timeout expired|Query read timeout|Connection terminated|connection ended|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    error.message,
  );
}
