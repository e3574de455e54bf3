import {
  appendFile,
  cp,
  mkdir,
  mkdtemp,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  applyMigrations,
  DEFAULT_MIGRATIONS_DIR,
  MigrationError,
  readMigrations,
} from "../../app/db/migrate.server";
import { indexableKey } from "../../app/ingest/index-key.server";
import {
  createEmptyDatabase,
  isEmbeddedMode,
  type TestDatabase,
} from "../support/database";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "migrations-"));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withDatabase(run: (db: TestDatabase) => Promise<void>) {
  const db = await createEmptyDatabase("migrate");
  try {
    await run(db);
  } finally {
    await db.drop();
  }
}

test("fresh database gets every migration", async () => {
  await withDatabase(async (db) => {
    const files = await readMigrations(dir);
    const applied = await applyMigrations(db.url, dir);
    expect(applied).toEqual(files.map((file) => file.name));
    const { rows } = await db.pool.query(
      `SELECT migration_name, checksum, finished_at, applied_steps_count
       FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((row) => row.migration_name)).toEqual(applied);
    expect(rows[0].checksum).toBe(files[0].checksum);
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].finished_at).not.toBeNull();
    expect(rows[0].applied_steps_count).toBe(1);
    const tables = await db.pool.query(
      "SELECT to_regclass('public.message') AS message, to_regclass('public.request_record') AS records",
    );
    expect(tables.rows[0].message).toBe("message");
    expect(tables.rows[0].records).toBe("request_record");
  });
});

test("migrated indexes carry their settings", async () => {
  await withDatabase(async (db) => {
    await applyMigrations(db.url, dir);
    const { rows } = await db.pool.query<{
      relname: string;
      reloptions: string[] | null;
    }>(
      `SELECT relname, reloptions FROM pg_class
       WHERE relname LIKE 'message\\_%\\_trgm\\_idx' ORDER BY relname`,
    );
    expect(rows.map((row) => row.relname)).toEqual([
      "message_recipient_trgm_idx",
      "message_sender_trgm_idx",
      "message_subject_trgm_idx",
      "message_text_preview_trgm_idx",
    ]);
    for (const row of rows) {
      expect(row.reloptions).toEqual(["gin_pending_list_limit=256"]);
    }
    const unique = await db.pool.query<{ definition: string }>(
      "SELECT pg_get_indexdef('message_channel_dedup_key_key'::regclass) AS definition",
    );
    expect(unique.rows[0].definition).toContain(
      '(channel COLLATE "C", dedup_key)',
    );
  });
});

test("second run applies nothing", async () => {
  await withDatabase(async (db) => {
    await applyMigrations(db.url, dir);
    expect(await applyMigrations(db.url, dir)).toEqual([]);
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM "_prisma_migrations"',
    );
    expect(rows[0].n).toBe((await readMigrations(dir)).length);
  });
});

// PGlite serves every connection from one session, so its advisory locks
// cannot separate concurrent runs; only one process may use its data anyway.
test.skipIf(isEmbeddedMode())(
  "concurrent runs apply each file once",
  async () => {
    await withDatabase(async (db) => {
      const results = await Promise.all([
        applyMigrations(db.url, dir),
        applyMigrations(db.url, dir),
        applyMigrations(db.url, dir),
      ]);
      const total = results.reduce((sum, names) => sum + names.length, 0);
      expect(total).toBe((await readMigrations(dir)).length);
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS n FROM "_prisma_migrations"',
      );
      expect(rows[0].n).toBe(total);
    });
  },
);

test("new migration file is applied on the next run", async () => {
  const extraDir = await mkdtemp(path.join(tmpdir(), "migrations-extra-"));
  try {
    await cp(dir, extraDir, { recursive: true });
    await withDatabase(async (db) => {
      await applyMigrations(db.url, extraDir);
      const name = "29991231000000_add_note";
      await mkdir(path.join(extraDir, name));
      await writeFile(
        path.join(extraDir, name, "migration.sql"),
        'ALTER TABLE "message" ADD COLUMN "note" TEXT;\n',
      );
      expect(await applyMigrations(db.url, extraDir)).toEqual([name]);
      const { rows } = await db.pool.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND column_name = 'note'",
      );
      expect(rows).toHaveLength(1);
    });
  } finally {
    await rm(extraDir, { recursive: true, force: true });
  }
});

test("long keys are rewritten as digests", async () => {
  const hashMigration = "20261204100000_hash_long_keys";
  const earlierDir = await mkdtemp(path.join(tmpdir(), "migrations-earlier-"));
  try {
    await cp(dir, earlierDir, { recursive: true });
    await rm(path.join(earlierDir, hashMigration), { recursive: true });
    await withDatabase(async (db) => {
      await applyMigrations(db.url, earlierDir);
      // 300 two-byte characters: 609 bytes, over the 512-byte limit.
      const longKey = `postmark:${"ü".repeat(300)}`;
      const takenKey = `postmark:${"é".repeat(300)}`;
      const shortKey = "postmark:short-id";
      const insert = `INSERT INTO message (channel, provider, dedup_key, dedup_kind,
          sender, recipient, text_preview, payload, headers)
        VALUES ('email', 'postmark', $1, 'id', 'a@example.com', 'b@example.com', '', '{}', '{}')
        RETURNING id`;
      const keys = [longKey, takenKey, indexableKey(takenKey), shortKey];
      const ids: string[] = [];
      for (const key of keys) {
        ids.push((await db.pool.query(insert, [key])).rows[0].id);
      }
      const statusId = "x".repeat(600);
      await db.pool.query(
        `INSERT INTO status_event (provider, channel, external_message_id, status, payload)
         VALUES ('meta', 'whatsapp', $1, 'read', '{}')`,
        [statusId],
      );

      expect(await applyMigrations(db.url, dir)).toEqual([hashMigration]);

      const { rows } = await db.pool.query<{ id: string; dedup_key: string }>(
        "SELECT id, dedup_key FROM message",
      );
      const keyOf = (id: string) =>
        rows.find((row) => row.id === id)?.dedup_key;
      expect(keyOf(ids[0])).toBe(indexableKey(longKey));
      expect(keyOf(ids[0])).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Its digest was taken by a row stored under the new rule.
      expect(keyOf(ids[1])).toBe(takenKey);
      expect(keyOf(ids[2])).toBe(indexableKey(takenKey));
      expect(keyOf(ids[3])).toBe(shortKey);
      const status = await db.pool.query(
        "SELECT external_message_id FROM status_event",
      );
      expect(status.rows[0].external_message_id).toBe(indexableKey(statusId));
    });
  } finally {
    await rm(earlierDir, { recursive: true, force: true });
  }
});

test("edited applied migration is refused", async () => {
  const editedDir = await mkdtemp(path.join(tmpdir(), "migrations-edited-"));
  try {
    await cp(dir, editedDir, { recursive: true });
    await withDatabase(async (db) => {
      await applyMigrations(db.url, editedDir);
      const first = (await readMigrations(editedDir))[0];
      await appendFile(
        path.join(editedDir, first.name, "migration.sql"),
        "\n-- edited\n",
      );
      const run = applyMigrations(db.url, editedDir);
      await expect(run).rejects.toBeInstanceOf(MigrationError);
      await expect(applyMigrations(db.url, editedDir)).rejects.toThrow(
        new RegExp(`Migration ${first.name} was edited after it was applied`),
      );
    });
  } finally {
    await rm(editedDir, { recursive: true, force: true });
  }
});

test("failing migration is rolled back and not recorded", async () => {
  const brokenDir = await mkdtemp(path.join(tmpdir(), "migrations-broken-"));
  try {
    await cp(dir, brokenDir, { recursive: true });
    const name = "29991231000001_broken";
    await mkdir(path.join(brokenDir, name));
    await writeFile(
      path.join(brokenDir, name, "migration.sql"),
      'CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n',
    );
    await withDatabase(async (db) => {
      await expect(applyMigrations(db.url, brokenDir)).rejects.toThrow(
        /Migration 29991231000001_broken failed: relation "no_such_table" does not exist/,
      );
      const { rows } = await db.pool.query(
        "SELECT to_regclass('public.half_done') AS t, (SELECT count(*)::int FROM \"_prisma_migrations\" WHERE migration_name = $1) AS n",
        [name],
      );
      expect(rows[0].t).toBeNull();
      expect(rows[0].n).toBe(0);
    });
  } finally {
    await rm(brokenDir, { recursive: true, force: true });
  }
});
