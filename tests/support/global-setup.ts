import pg from "pg";
import { applyMigrations } from "../../app/db/migrate.server";
import { databaseUrl, serverUrl, TEMPLATE_DATABASE } from "./database";

/** Builds the migrated template database that every test file copies. */
export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(
      `DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`,
    );
    await admin.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  } finally {
    await admin.end();
  }
  await applyMigrations(databaseUrl(TEMPLATE_DATABASE));
}
