// Deletes messages, request records, status events and per-minute statistics
// older than RETENTION_DAYS (default 30) from DATABASE_URL, or from the
// embedded database in DATA_DIR when DATABASE_URL is unset, and prints the
// number of rows deleted per table.
import pg from "pg";
import { startEmbeddedDatabase } from "../app/db/embedded.server";
import { parseEnv } from "../app/env.server";
import { purgeExpired } from "../app/maintenance/retention.server";

const config = parseEnv();
const embedded = config.DATABASE_URL
  ? null
  : await startEmbeddedDatabase({ dataDir: config.DATA_DIR, port: 0 });
const pool = new pg.Pool({
  connectionString: config.DATABASE_URL ?? embedded!.url,
  max: 1,
  connectionTimeoutMillis: 10_000,
});
try {
  const result = await purgeExpired(pool, {
    retentionDays: config.RETENTION_DAYS,
  });
  console.log(
    `deleted rows older than ${result.cutoff.toISOString()} (RETENTION_DAYS=${config.RETENTION_DAYS}):`,
  );
  for (const [table, count] of Object.entries(result.deleted)) {
    console.log(`  ${table}: ${count}`);
  }
} catch (error) {
  console.error(
    `purge failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
} finally {
  await pool.end();
  await embedded?.stop();
}
