import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedDatabase } from "../../app/db/embedded.server";
import { applyMigrations } from "../../app/db/migrate.server";

/**
 * Each test file gets its own database, copied from a template that global
 * setup migrated once. The template is named after a hash of the migration
 * files, so concurrent runs share it and an edited migration gets a new one. TEST_DATABASE_URL (set by scripts/test.mjs) names the
 * server; its database is only used to issue CREATE and DROP.
 */
export function templateDatabase(): string {
  const name = process.env.TEST_TEMPLATE_DATABASE;
  if (!name)
    throw new Error("TEST_TEMPLATE_DATABASE is not set; global setup sets it");
  return name;
}

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      "TEST_DATABASE_URL is not set; run the tests with npm test",
    );
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop: () => Promise<void>;
}

/** Creates an empty, unmigrated database. */
export async function createEmptyDatabase(
  prefix = "test",
): Promise<TestDatabase> {
  if (isEmbeddedMode()) return createEmbeddedDatabase(prefix, false);
  return createDatabase(prefix, null);
}

/** Creates a migrated database from the template. */
export async function createTestDatabase(
  prefix = "test",
): Promise<TestDatabase> {
  if (isEmbeddedMode()) return createEmbeddedDatabase(prefix, true);
  return createDatabase(prefix, templateDatabase());
}

/**
 * True when no PostgreSQL server was found and each test database is an
 * in-process PGlite instead (scripts/test.mjs sets TEST_DATABASE_MODE).
 */
export function isEmbeddedMode(): boolean {
  return process.env.TEST_DATABASE_MODE === "embedded";
}

// NOTE: the app and this test pool share the PGlite instance's single
// session, so statements of a test can land inside the app's request-record
// transaction. Some ingest tests fail in this mode; use PostgreSQL.
async function createEmbeddedDatabase(
  prefix: string,
  migrate: boolean,
): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  const embedded = await startEmbeddedDatabase({ dataDir, port: 0 });
  if (migrate) await applyMigrations(embedded.url);
  const pool = new pg.Pool({ connectionString: embedded.url, max: 2 });
  pool.on("error", () => undefined);
  return {
    name: path.basename(dataDir),
    url: embedded.url,
    pool,
    drop: async () => {
      await pool.end();
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function createDatabase(
  prefix: string,
  template: string | null,
): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) =>
    client.query(
      template
        ? `CREATE DATABASE "${name}" TEMPLATE "${template}"`
        : `CREATE DATABASE "${name}"`,
    ),
  );
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) terminates connections that are still
  // closing; the resulting error on an idle client is expected then.
  pool.on("error", () => undefined);
  return {
    name,
    url,
    pool,
    drop: async () => {
      await pool.end();
      await withAdmin((client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}
