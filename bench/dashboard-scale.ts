// Times the dashboard loader queries against a large seeded database and
// writes the results to docs/benchmarks.md.
// Usage: npm run bench:dashboard -- [--messages N] [--records N] [--quick]
//   [--keep] [--database NAME] [--iterations N] [--warmups N] [--no-report]
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { applyMigrations } from "~/db/migrate.server";
import {
  dashboardCases,
  measureCase,
  readCaseFixture,
  TARGETS_MS,
  type CaseTiming,
} from "./dashboard-cases";
import {
  describeMachine,
  renderReport,
  timingTable,
  writeReport,
} from "./dashboard-report";
import { seedScale, type SeedCounts } from "./dashboard-seed";

const DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const REPORT_FILE = path.resolve("docs/benchmarks.md");

const HELP = `Usage: npm run bench:dashboard -- [options]

  --messages N     messages to seed (default 1000000)
  --records N      request records to seed, at least --messages (default 5000000)
  --quick          seed 100000 messages and 500000 records
  --keep           keep the bench database instead of dropping it
  --database NAME  measure an existing seeded database on the same server
                   (migrations are applied, nothing is seeded or dropped)
  --iterations N   measured runs per case (default 30)
  --warmups N      unmeasured runs per case first (default 3)
  --no-report      print the results without writing docs/benchmarks.md

BENCH_DATABASE_URL names the PostgreSQL server (default ${DEFAULT_SERVER_URL}).`;

interface Options {
  counts: SeedCounts;
  keep: boolean;
  database: string | null;
  iterations: number;
  warmups: number;
  report: boolean;
}

function wholeNumber(name: string, value: string, min: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
    throw new Error(
      `--${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}.`,
    );
  }
  return number;
}

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      messages: { type: "string" },
      records: { type: "string" },
      quick: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      database: { type: "string" },
      iterations: { type: "string", default: "30" },
      warmups: { type: "string", default: "3" },
      "no-report": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick;
  const counts = {
    messages: wholeNumber(
      "messages",
      values.messages ?? (quick ? "100000" : "1000000"),
      1,
    ),
    records: wholeNumber(
      "records",
      values.records ?? (quick ? "500000" : "5000000"),
      1,
    ),
  };
  if (counts.records < counts.messages) {
    throw new Error(
      `--records (${counts.records}) must be at least --messages (${counts.messages}), because each message gets one accepted request record.`,
    );
  }
  if (values.database !== undefined && !/^\w+$/.test(values.database)) {
    throw new Error(
      `--database must be a plain database name of letters, digits and _, got ${JSON.stringify(values.database)}.`,
    );
  }
  return {
    counts,
    keep: values.keep,
    database: values.database ?? null,
    iterations: wholeNumber("iterations", values.iterations, 1),
    warmups: wholeNumber("warmups", values.warmups, 0),
    report: !values["no-report"],
  };
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function countRows(pool: pg.Pool): Promise<SeedCounts> {
  const { rows } = await pool.query<{ messages: string; records: string }>(
    `SELECT (SELECT count(*) FROM message) AS messages,
            (SELECT count(*) FROM request_record) AS records`,
  );
  return {
    messages: Number(rows[0]!.messages),
    records: Number(rows[0]!.records),
  };
}

async function measureAll(
  pool: pg.Pool,
  options: Options,
): Promise<CaseTiming[]> {
  const fixture = await readCaseFixture(pool, new Date());
  const timings: CaseTiming[] = [];
  for (const dashboardCase of dashboardCases(fixture)) {
    const timing = await measureCase(pool, dashboardCase, options);
    timings.push(timing);
    console.log(
      `${timing.name}: p50 ${timing.p50.toFixed(1)} ms, p95 ${timing.p95.toFixed(1)} ms, max ${timing.max.toFixed(1)} ms`,
    );
  }
  return timings;
}

async function main(options: Options): Promise<number> {
  const loadBefore = os.loadavg()[0]!;
  const serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL;
  const name =
    options.database ?? `bench_dashboard_${randomBytes(4).toString("hex")}`;
  const url = withDatabase(serverUrl, name);
  const created = options.database === null;
  if (created) {
    await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
    console.log(`created database ${name}`);
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    const applied = await applyMigrations(url);
    console.log(`applied ${applied.length} migrations`);

    let seedSeconds: number | null = null;
    if (created) {
      console.log(
        `seeding ${options.counts.messages} messages and ${options.counts.records} request records`,
      );
      const started = performance.now();
      await seedScale(url, options.counts, (step) =>
        console.log(`  ${(step.ms / 1000).toFixed(1)} s  ${step.label}`),
      );
      seedSeconds = (performance.now() - started) / 1000;
      console.log(`seeded in ${seedSeconds.toFixed(0)} s`);
    }

    const timings = await measureAll(pool, options);
    console.log(`\n${timingTable(timings).join("\n")}`);
    const failed = timings.filter((timing) => timing.passed === false);
    if (options.report) {
      const section = renderReport(
        {
          counts: created ? options.counts : await countRows(pool),
          seedSeconds,
          warmups: options.warmups,
          iterations: options.iterations,
          timings,
          loadBefore,
        },
        await describeMachine(pool),
      );
      await writeReport(REPORT_FILE, section);
      console.log(`wrote ${path.relative(process.cwd(), REPORT_FILE)}`);
    }
    console.log(
      failed.length === 0
        ? `all targets met (page ${TARGETS_MS.page} ms, search ${TARGETS_MS.search} ms, chart ${TARGETS_MS.chart} ms at p95)`
        : `${failed.length} cases missed their target: ${failed.map((timing) => timing.name).join(", ")}`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    await pool.end();
    if (created && !options.keep) {
      await adminQuery(serverUrl, `DROP DATABASE "${name}" WITH (FORCE)`);
      console.log(`dropped database ${name}`);
    } else {
      console.log(
        `kept database ${name}; measure it again with --database ${name}`,
      );
    }
  }
}

try {
  const options = readOptions();
  if (options === null) {
    console.log(HELP);
  } else {
    process.exitCode = await main(options);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
