// Applies pending migrations to DATABASE_URL, or to the embedded database in
// DATA_DIR when DATABASE_URL is unset.
import { startEmbeddedDatabase } from "../app/db/embedded.server";
import { applyMigrations, MigrationError } from "../app/db/migrate.server";

const dataDir = process.env.DATA_DIR ?? "./data";
const embedded = process.env.DATABASE_URL
  ? null
  : await startEmbeddedDatabase({ dataDir, port: 0 });
const url = process.env.DATABASE_URL ?? embedded!.url;
try {
  const applied = await applyMigrations(url);
  console.log(
    applied.length > 0
      ? `applied: ${applied.join(", ")}`
      : "database schema is up to date",
  );
} catch (error) {
  console.error(error instanceof MigrationError ? error.message : error);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
