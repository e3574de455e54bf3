import { randomBytes } from "node:crypto";
import pg from "pg";

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
  return createDatabase(prefix, null);
}

/** Creates a migrated database from the template. */
export async function createTestDatabase(
  prefix = "test",
): Promise<TestDatabase> {
  return createDatabase(prefix, templateDatabase());
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
