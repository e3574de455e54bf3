import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const SEED_SQL_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "seed-scale.sql",
);

/** The row counts of one seed run. */
export interface SeedCounts {
  messages: number;
  records: number;
}

/** Duration of one seeding step, in milliseconds. */
export interface SeedStep {
  label: string;
  ms: number;
}

/**
 * Reads bench/seed-scale.sql with its psql variables `:messages` and
 * `:records` replaced by the counts, split into single statements.
 */
export async function loadSeedStatements(
  counts: SeedCounts,
): Promise<string[]> {
  if (counts.records < counts.messages) {
    throw new Error(
      `records (${counts.records}) must be at least messages (${counts.messages}), because every message gets one accepted request record.`,
    );
  }
  const text = await readFile(SEED_SQL_PATH, "utf8");
  // The lookbehind skips casts such as `::uuid`.
  const substituted = text.replace(
    /(?<!:):(messages|records)\b/g,
    (_, name: "messages" | "records") => String(counts[name]),
  );
  return substituted
    .split(/;\s*\n/)
    .map((statement) => statement.trim())
    .filter((statement) => stripComments(statement) !== "");
}

function stripComments(statement: string): string {
  return statement.replace(/--[^\n]*/g, "").trim();
}

/** Returns the first line that is not a comment, as a progress label. */
function describeStatement(statement: string): string {
  const line = stripComments(statement).split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

interface SecondaryIndex {
  name: string;
  definition: string;
}

/**
 * Returns the indexes of `tables` that back no primary key or unique
 * constraint, so that the bulk insert can run without them.
 */
async function secondaryIndexes(
  client: pg.ClientBase,
  tables: string[],
): Promise<SecondaryIndex[]> {
  const { rows } = await client.query<SecondaryIndex>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_class t ON t.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = current_schema() AND t.relname = ANY($1)
       AND NOT i.indisprimary AND NOT i.indisunique
     ORDER BY c.relname`,
    [tables],
  );
  return rows;
}

/**
 * Seeds a migrated, empty database with bench/seed-scale.sql. The secondary
 * indexes of message and request_record (time order, filters, trigram) are
 * dropped before the inserts and rebuilt from their saved definitions
 * afterwards, which leaves the schema as the migrations made it. Building
 * each index once after the inserts avoids updating it row by row.
 */
export async function seedScale(
  connectionString: string,
  counts: SeedCounts,
  onStep: (step: SeedStep) => void = () => {},
): Promise<SeedStep[]> {
  const statements = await loadSeedStatements(counts);
  const client = new pg.Client({ connectionString });
  await client.connect();
  const steps: SeedStep[] = [];
  const timed = async (label: string, run: () => Promise<unknown>) => {
    const started = performance.now();
    await run();
    const step = { label, ms: performance.now() - started };
    steps.push(step);
    onStep(step);
  };
  try {
    await client.query("SET maintenance_work_mem = '512MB'");
    const indexes = await secondaryIndexes(client, [
      "message",
      "request_record",
    ]);
    await timed(`drop ${indexes.length} secondary indexes`, () =>
      client.query(
        indexes.map((index) => `DROP INDEX "${index.name}";`).join("\n"),
      ),
    );
    const [analyze, inserts] = partitionAnalyze(statements);
    for (const statement of inserts) {
      await timed(describeStatement(statement), () => client.query(statement));
    }
    for (const index of indexes) {
      await timed(`create index ${index.name}`, () =>
        client.query(index.definition),
      );
    }
    for (const statement of analyze) {
      await timed(describeStatement(statement), () => client.query(statement));
    }
  } finally {
    await client.end();
  }
  return steps;
}

/** Splits the ANALYZE statements off, so they run after the index builds. */
function partitionAnalyze(statements: string[]): [string[], string[]] {
  const isAnalyze = (statement: string) =>
    /^ANALYZE\b/i.test(stripComments(statement));
  return [
    statements.filter(isAnalyze),
    statements.filter((s) => !isAnalyze(s)),
  ];
}
