import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { isDatabaseUnavailable } from "../../app/ingest/database-errors.server";
import {
  createTestDatabase,
  serverUrl,
  type TestDatabase,
} from "../support/database";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("db_errors");
});

/** Sets ALLOW_CONNECTIONS of the test database from the server's default database. */
async function allowConnections(allow: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS ${allow}`);
  } finally {
    await admin.end();
  }
}

afterAll(async () => {
  await db?.drop();
});

/** Returns the error of a new connection to the test database. */
async function connectError(): Promise<unknown> {
  const client = new pg.Client({ connectionString: db.url });
  try {
    await client.connect();
    return null;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

test("refused connection counts as unavailable", async () => {
  await allowConnections(false);
  let error: unknown;
  try {
    error = await connectError();
  } finally {
    await allowConnections(true);
  }
  expect((error as { code?: string }).code).toBe("55000");
  expect(isDatabaseUnavailable(error)).toBe(true);
});

test("statement errors are not unavailability", async () => {
  const error = await db.pool
    .query("SELECT 1 / 0")
    .then(() => null)
    .catch((caught: unknown) => caught);
  expect((error as { code?: string }).code).toBe("22012");
  expect(isDatabaseUnavailable(error)).toBe(false);
});

test("ended pool counts as unavailable", async () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await pool.query("SELECT 1");
  await pool.end();
  const error = await pool.query("SELECT 1").catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(
    /Cannot use a pool after calling end/,
  );
  expect(isDatabaseUnavailable(error)).toBe(true);
});
