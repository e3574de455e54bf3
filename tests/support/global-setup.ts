import { createHash } from "node:crypto";
import pg from "pg";
import {
  applyMigrations,
  DEFAULT_MIGRATIONS_DIR,
  readMigrations,
} from "../../app/db/migrate.server";
import { databaseUrl, serverUrl } from "./database";

const TEMPLATE_LOCK_KEY = 4_242_001;

/**
 * Builds the migrated template database that every test file copies, unless
 * one for the same migration files exists, and exports its name to workers.
 */
export default async function setup(): Promise<void> {
  // Without a server each test file starts its own PGlite; no template.
  if (process.env.TEST_DATABASE_MODE === "embedded") return;
  const migrations = await readMigrations(DEFAULT_MIGRATIONS_DIR);
  const hash = createHash("sha256")
    .update(
      migrations.map((file) => `${file.name}:${file.checksum}`).join("\n"),
    )
    .digest("hex")
    .slice(0, 12);
  const name = `inbox_tmpl_${hash}`;
  process.env.TEST_TEMPLATE_DATABASE = name;

  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    const { rows } = await admin.query(
      "SELECT datname FROM pg_database WHERE datname = $1",
      [name],
    );
    if (rows.length === 0) {
      const building = `${name}_new`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      await applyMigrations(databaseUrl(building));
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    }
  } finally {
    await admin
      .query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY])
      .catch(() => undefined);
    await admin.end();
  }
}
