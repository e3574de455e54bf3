import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

/**
 * Applies the SQL migrations under prisma/migrations/ and records each one in
 * Prisma's `_prisma_migrations` table with the same checksum (SHA-256 of the
 * file) that `prisma migrate deploy` writes, so either tool can take over.
 *
 * The run holds the PostgreSQL advisory lock that Prisma Migrate uses
 * (72707369), so two instances starting together apply each file once.
 */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export const DEFAULT_MIGRATIONS_DIR = path.resolve("prisma/migrations");

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    files.push({ name, sql, checksum });
  }
  return files;
}

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies every migration not yet recorded and returns the names applied.
 * Throws a MigrationError, applying nothing further, when a recorded file
 * was edited or an earlier run failed half-way.
 */
export async function applyMigrations(
  connectionString: string,
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<string[]> {
  const files = await readMigrations(dir);
  // The timeout turns an unreachable host into an error instead of a hang.
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [
      PRISMA_MIGRATE_LOCK_KEY,
    ]);
    try {
      await client.query(CREATE_TABLE);
      const { rows } = await client.query<AppliedRow>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
         WHERE rolled_back_at IS NULL`,
      );
      const applied = new Map(rows.map((row) => [row.migration_name, row]));
      const appliedNow: string[] = [];
      for (const file of files) {
        const row = applied.get(file.name);
        if (row) {
          checkRecorded(file, row);
          continue;
        }
        await applyOne(client, file);
        appliedNow.push(file.name);
      }
      return appliedNow;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [
        PRISMA_MIGRATE_LOCK_KEY,
      ]);
    }
  } finally {
    await client.end();
  }
}

function checkRecorded(file: MigrationFile, row: AppliedRow): void {
  if (row.finished_at === null) {
    throw new MigrationError(
      `Migration ${file.name} started earlier but did not finish. ` +
        `Fix the database by hand, then mark it rolled back in _prisma_migrations.`,
    );
  }
  if (row.checksum !== file.checksum) {
    throw new MigrationError(
      `Migration ${file.name} was edited after it was applied ` +
        `(checksum ${row.checksum} in the database, ${file.checksum} on disk). ` +
        `Restore the applied file and put the change in a new migration.`,
    );
  }
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(file.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, applied_steps_count, started_at)
       VALUES ($1, $2, now(), $3, 1, now())`,
      [randomUUID(), file.checksum, file.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`Migration ${file.name} failed: ${reason}`);
  }
}
