import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INSERT_STATUS_EVENT } from "../../app/ingest/providers/common.server";
import {
  FIND_ORIGINAL,
  INSERT_MESSAGE,
  RELEASE_EXPIRED_HASH,
} from "../../app/ingest/store.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

// A pooled connection keeps the generic plan of a named statement, made once
// and reused while the table grows. These tests make the generic plan of
// every lookup by dedup key and check that it reads message through the
// unique index. They cover the table states where the planner picked the
// channel index before: empty and never analyzed, then filled but not yet
// analyzed.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("dedupplan");
});

afterAll(async () => {
  await db?.drop();
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** Collects the scans of the message table in `node` as "<node type> <index>". */
function messageScans(node: PlanNode): string[] {
  const own =
    node["Relation Name"] === "message" && node["Node Type"] !== "ModifyTable"
      ? [`${node["Node Type"]} ${node["Index Name"] ?? ""}`.trim()]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap(messageScans)];
}

/** Plans `sql` as a generic plan and returns its scans of message. */
async function genericPlanScans(
  pool: pg.Pool,
  sql: string,
  args: string,
): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query("SET plan_cache_mode = force_generic_plan");
    await client.query(`PREPARE lookup AS ${sql}`);
    const { rows } = await client.query<{
      "QUERY PLAN": [{ Plan: PlanNode }];
    }>(`EXPLAIN (FORMAT JSON) EXECUTE lookup(${args})`);
    return messageScans(rows[0]["QUERY PLAN"][0].Plan);
  } finally {
    await client.query("DEALLOCATE ALL");
    await client.query("RESET plan_cache_mode");
    client.release();
  }
}

const LOOKUPS: { name: string; sql: string; args: string }[] = [
  {
    name: "insert_message",
    sql: INSERT_MESSAGE,
    args: "'email', 'test', 'id:plan-1', 'id', 'plan-1', 'a@example.com', 'b@example.com', NULL, 'hi', '{}', NULL, '{}', '[]', NULL, 24",
  },
  {
    name: "find_original_message",
    sql: FIND_ORIGINAL,
    args: "'email', 'id:plan-1', 24",
  },
  {
    name: "release_expired_hash",
    sql: RELEASE_EXPIRED_HASH,
    args: "'email', 'hash:plan-1', 24",
  },
  {
    name: "insert_status_event",
    sql: INSERT_STATUS_EVENT,
    args: "'twilio', 'sms', 'SM-plan-1', 'id:SM-plan-1', 'delivered', NULL, '{}'",
  },
];

function expectUniqueIndexOnly(scans: string[]): void {
  expect(scans.length).toBeGreaterThan(0);
  for (const scan of scans) {
    expect(scan).toBe("Index Scan message_channel_dedup_key_key");
  }
}

describe.each(LOOKUPS)("generic plan of $name", ({ sql, args }) => {
  test("uses unique index on empty table", async () => {
    const { rows } = await db.pool.query<{ reltuples: number; n: string }>(
      `SELECT reltuples, (SELECT count(*) FROM message) AS n
       FROM pg_class WHERE relname = 'message'`,
    );
    expect(rows[0]).toEqual({ reltuples: -1, n: "0" });
    expectUniqueIndexOnly(await genericPlanScans(db.pool, sql, args));
  });
});

describe("generic plan after 3,000 rows", () => {
  beforeAll(async () => {
    await db.pool.query(
      `INSERT INTO message (channel, provider, dedup_key, dedup_kind, sender,
         recipient, text_preview, payload, headers)
       SELECT 'email', 'test', 'id:filler-' || n, 'id', 'a@example.com',
         'b@example.com', repeat('x', 200), '{}', '{}'
       FROM generate_series(1, 3000) AS n`,
    );
  });

  test.each(LOOKUPS)("$name uses unique index", async ({ sql, args }) => {
    expectUniqueIndexOnly(await genericPlanScans(db.pool, sql, args));
  });
});
