import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { withCpuUsage } from "./cpu";
import { postConcurrently, runLoad, type LoadResult } from "./load";
import {
  CHANNELS,
  payloadFor,
  SCENARIO_LABELS,
  SCENARIOS,
  type Channel,
  type Scenario,
} from "./payloads";
import {
  createBenchDatabase,
  DEFAULT_DATABASE_URL,
  postgresVersion,
  ROOT,
  startBenchServer,
  type BenchDatabase,
  type BenchServer,
} from "./processes";
import {
  checkTargets,
  describeMachine,
  renderMarkdown,
  writeMarkdownSection,
  type BenchReport,
  type CaseResult,
  type DedupCheck,
  type ScaleResult,
  type ScaleRound,
} from "./report";

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

const USAGE = `Usage: npm run bench -- [options]

Benchmarks POST /api/webhooks/test-multichannel of the built app against a
bare node:http + pg baseline, per channel and scenario, and writes
docs/benchmarks.md and bench/results/*.json. Run npm run build first.

Options:
  --duration SECONDS     length of each measured case (default 10)
  --connections N        concurrent autocannon connections (default 50)
  --quick                smoke run: 2 s per case, 10 connections
  --processes LIST       also measure cluster mode with these worker counts,
                         for example 1,2,4, and check dedup across workers
  --rounds N             starts of each worker count, in alternating order;
                         the report gives the median (default 3, quick 1)
  --channels LIST        channels to measure (default email,whatsapp,sms)
  --profile              run the app with node --cpu-prof; the profile goes
                         to bench/results/profiles/
  --no-docs              leave docs/benchmarks.md unchanged
  --render FILE          measure nothing: rewrite docs/benchmarks.md from a
                         results file written by an earlier run
  --help                 print this text

Env: BENCH_DATABASE_URL names the PostgreSQL server (default
${DEFAULT_DATABASE_URL}); the run creates and drops its own databases there.
BENCH_REDIS_URL names the Redis that scale-out workers share for rate limits
(default ${DEFAULT_REDIS_URL}); "none", or an unreachable Redis,
leaves each worker counting in its own memory.
DATABASE_POOL_SIZE sets the pool of the app and the baseline alike (default 10).`;

const DEDUP_COPIES = 100;
const WARMUP_SECONDS = 2;

interface Options {
  durationSeconds: number;
  connections: number;
  quick: boolean;
  processes: number[];
  rounds: number;
  channels: Channel[];
  profile: boolean;
  writeDocs: boolean;
  /** A results JSON file to render instead of measuring. */
  render: string | undefined;
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    fail(
      `--${name} must be a positive whole number, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function parseOptions(): Options {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        duration: { type: "string" },
        connections: { type: "string" },
        quick: { type: "boolean", default: false },
        processes: { type: "string" },
        rounds: { type: "string" },
        channels: { type: "string" },
        profile: { type: "boolean", default: false },
        "no-docs": { type: "boolean", default: false },
        render: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    fail(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
  }
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = parsed.quick ?? false;
  const channels = (parsed.channels ?? CHANNELS.join(","))
    .split(",")
    .map((channel) => channel.trim());
  for (const channel of channels) {
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      fail(
        `--channels: unknown channel ${JSON.stringify(channel)}; use ${CHANNELS.join(", ")}`,
      );
    }
  }
  return {
    durationSeconds: parsed.duration
      ? positiveInteger("duration", parsed.duration)
      : quick
        ? 2
        : 10,
    connections: parsed.connections
      ? positiveInteger("connections", parsed.connections)
      : quick
        ? 10
        : 50,
    quick,
    processes: parsed.processes
      ? parsed.processes
          .split(",")
          .map((n) => positiveInteger("processes", n.trim()))
      : [],
    rounds: parsed.rounds
      ? positiveInteger("rounds", parsed.rounds)
      : quick
        ? 1
        : 3,
    channels: channels as Channel[],
    profile: parsed.profile ?? false,
    writeDocs: !(parsed["no-docs"] ?? false),
    render: parsed.render,
  };
}

function describe(load: LoadResult): string {
  const statuses = Object.entries(load.statuses)
    .map(([status, n]) => `${n}x${status}`)
    .join(" ");
  const cpu = load.cpu
    ? `; cores app ${load.cpu.cores.app}, postgres ${load.cpu.cores.postgres}, client ${load.cpu.cores.client}, redis ${load.cpu.cores.redis}, machine ${load.cpu.cores.machine} of ${load.cpu.machineCores}`
    : "";
  return `${load.rps} req/s, p50 ${load.p50} p95 ${load.p95} p99 ${load.p99} ms (${statuses}${load.errors ? `, ${load.errors} errors` : ""})${cpu}`;
}

async function warmUp(server: BenchServer, options: Options, runId: string) {
  await runLoad({
    baseUrl: server.url,
    channel: "sms",
    scenario: "unique",
    prefix: `${runId}-warmup`,
    connections: options.connections,
    durationSeconds: WARMUP_SECONDS,
  });
}

async function measureCases(
  options: Options,
  serverUrl: string,
  runId: string,
  poolSize: number,
): Promise<CaseResult[]> {
  const appDb = await createBenchDatabase(serverUrl, "app");
  const baselineDb = await createBenchDatabase(serverUrl, "baseline");
  const databases = [appDb, baselineDb];
  const servers: BenchServer[] = [];
  try {
    const profileDir = path.join(ROOT, "bench/results/profiles");
    if (options.profile) await mkdir(profileDir, { recursive: true });
    const app = await startBenchServer({
      script: "server/index.ts",
      env: { DATABASE_URL: appDb.url, DATABASE_POOL_SIZE: String(poolSize) },
      nodeArgs: options.profile
        ? ["--cpu-prof", "--cpu-prof-dir", profileDir]
        : [],
    });
    servers.push(app);
    const baseline = await startBenchServer({
      script: "bench/baseline-server.ts",
      env: {
        DATABASE_URL: baselineDb.url,
        DATABASE_POOL_SIZE: String(poolSize),
      },
    });
    servers.push(baseline);
    console.log(`app ${app.url} (pid ${app.pid}), baseline ${baseline.url}`);
    await warmUp(app, options, runId);
    await warmUp(baseline, options, runId);

    const cases: CaseResult[] = [];
    for (const channel of options.channels) {
      for (const scenario of SCENARIOS) {
        const prefix = `${runId}-${channel}-${scenario}`;
        const run = (server: BenchServer) =>
          withCpuUsage(server.pid, () =>
            runLoad({
              baseUrl: server.url,
              channel,
              scenario,
              prefix,
              connections: options.connections,
              durationSeconds: options.durationSeconds,
            }),
          );
        const appLoad = await run(app);
        const baselineLoad = await run(baseline);
        const ratio = baselineLoad.rps > 0 ? appLoad.rps / baselineLoad.rps : 0;
        console.log(`${channel}, ${SCENARIO_LABELS[scenario]}`);
        console.log(`  app      ${describe(appLoad)}`);
        console.log(`  baseline ${describe(baselineLoad)}`);
        cases.push({
          channel,
          scenario,
          app: appLoad,
          baseline: baselineLoad,
          ratio,
        });
      }
    }
    return cases;
  } finally {
    for (const server of servers) await server.stop();
    for (const db of databases) await db.drop();
  }
}

async function checkDedup(
  server: BenchServer,
  db: BenchDatabase,
  messageId: string,
): Promise<DedupCheck> {
  const statuses = await postConcurrently(
    server.url,
    payloadFor("sms", messageId),
    DEDUP_COPIES,
  );
  const { rows } = await db.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM message WHERE channel = 'sms' AND dedup_key = $1",
    [`id:${messageId}`],
  );
  const created = statuses.filter((status) => status === 201).length;
  const duplicates = statuses.filter((status) => status === 409).length;
  return {
    copies: DEDUP_COPIES,
    created,
    duplicates,
    other: statuses.length - created - duplicates,
    rows: Number(rows[0].n),
  };
}

/**
 * Returns `url` when the Redis server there replies to PING within a
 * second, else null.
 */
async function reachableRedis(url: string): Promise<string | null> {
  if (url === "none") return null;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG" ? url : null;
  } catch (error) {
    console.log(
      `Redis at ${url} is unreachable (${error instanceof Error ? error.message : error}); scale-out workers count rate limits in memory.`,
    );
    return null;
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts `processes` cluster workers on a fresh database and measures unique
 * sms messages, then duplicates of one stored message. With `dedup` it also
 * sends identical POSTs at once.
 */
async function measureScaleRound(
  options: Options,
  serverUrl: string,
  runId: string,
  poolSize: number,
  redisUrl: string | null,
  processes: number,
  round: number,
  dedup: boolean,
): Promise<{ round: ScaleRound; dedup?: DedupCheck }> {
  const name = `scale${processes}r${round}`;
  const db = await createBenchDatabase(serverUrl, name);
  let server: BenchServer | undefined;
  try {
    server = await startBenchServer({
      script: "server/cluster.ts",
      env: {
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: String(poolSize),
        WEB_CONCURRENCY: String(processes),
        ...(redisUrl
          ? {
              REDIS_URL: redisUrl,
              RATE_LIMIT_KEY_PREFIX: `bench:${runId}:${name}`,
            }
          : {}),
      },
      listeners: processes,
    });
    await warmUp(server, options, `${runId}-${name}`);
    const url = server.url;
    const pid = server.pid;
    const measure = (scenario: Scenario) =>
      withCpuUsage(pid, () =>
        runLoad({
          baseUrl: url,
          channel: "sms",
          scenario,
          prefix: `${runId}-${name}-${scenario}`,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
        }),
      );
    const unique = await measure("unique");
    const duplicates = await measure("alldup");
    console.log(`${processes} process(es), round ${round + 1}`);
    console.log(`  unique     ${describe(unique)}`);
    console.log(`  duplicates ${describe(duplicates)}`);
    if (!dedup) return { round: { unique, duplicates } };
    const check = await checkDedup(server, db, `${runId}-dedup-${processes}`);
    console.log(
      `  ${check.copies} identical POSTs: ${check.created} x 201, ${check.duplicates} x 409, ${check.other} other, ${check.rows} row(s)`,
    );
    return { round: { unique, duplicates }, dedup: check };
  } finally {
    await server?.stop();
    await db.drop();
  }
}

/**
 * Measures every worker count once per round, in alternating order, so a
 * machine that speeds up or slows down during the run favours no count.
 */
async function measureScale(
  options: Options,
  serverUrl: string,
  runId: string,
  poolSize: number,
  redisUrl: string | null,
): Promise<ScaleResult[]> {
  const rounds = new Map<number, ScaleRound[]>();
  const dedups = new Map<number, DedupCheck>();
  for (let round = 0; round < options.rounds; round++) {
    const order =
      round % 2 === 0 ? options.processes : [...options.processes].reverse();
    for (const processes of order) {
      const measured = await measureScaleRound(
        options,
        serverUrl,
        runId,
        poolSize,
        redisUrl,
        processes,
        round,
        !dedups.has(processes),
      );
      rounds.set(processes, [...(rounds.get(processes) ?? []), measured.round]);
      if (measured.dedup) dedups.set(processes, measured.dedup);
    }
  }
  return options.processes.map((processes) => ({
    processes,
    rounds: rounds.get(processes) ?? [],
    dedup: dedups.get(processes)!,
  }));
}

const DOCS_FILE = path.join(ROOT, "docs/benchmarks.md");

async function renderSaved(file: string): Promise<void> {
  let report: BenchReport;
  try {
    report = JSON.parse(await readFile(file, "utf8")) as BenchReport;
  } catch (error) {
    fail(
      `cannot read results file ${file} (${error instanceof Error ? error.message : error}); pass a JSON file from bench/results/.`,
    );
  }
  if (report.scale.some((run) => !Array.isArray(run.rounds))) {
    fail(
      `${file} has scale-out results without rounds, written by an older bench; measure again with --processes.`,
    );
  }
  await writeMarkdownSection(DOCS_FILE, renderMarkdown(report));
  console.log(`updated docs/benchmarks.md from ${file}`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.render) {
    await renderSaved(options.render);
    return;
  }
  if (!existsSync(path.join(ROOT, "build/server/index.js"))) {
    fail("build/server/index.js is missing; run `npm run build` first.");
  }
  const serverUrl = process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL;
  const poolSize = positiveInteger(
    "DATABASE_POOL_SIZE",
    process.env.DATABASE_POOL_SIZE ?? "10",
  );
  const postgres = await postgresVersion(serverUrl).catch((error: unknown) =>
    fail(
      `cannot reach PostgreSQL at ${serverUrl} (${error instanceof Error ? error.message : error}); start it or set BENCH_DATABASE_URL.`,
    ),
  );
  const machine = describeMachine(postgres);
  const measuredAt = new Date().toISOString();
  const runId = `b${randomBytes(3).toString("hex")}`;
  console.log(
    `bench ${runId}: ${options.durationSeconds} s per case, ${options.connections} connections, pool ${poolSize}`,
  );

  const cases = await measureCases(options, serverUrl, runId, poolSize);
  const scaleRedis =
    options.processes.length > 0
      ? await reachableRedis(process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL)
      : null;
  const scale = await measureScale(
    options,
    serverUrl,
    runId,
    poolSize,
    scaleRedis,
  );
  const checks = checkTargets(cases, scale);
  const report: BenchReport = {
    measuredAt,
    machine,
    settings: {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      poolSize,
      quick: options.quick,
      command:
        process.argv.length > 2
          ? `npm run bench -- ${process.argv.slice(2).join(" ")}`
          : "npm run bench",
      scaleRedis,
    },
    cases,
    scale,
    checks,
  };

  console.log("");
  for (const check of checks) {
    console.log(
      `${check.pass ? "pass" : "FAIL"}  ${check.target} (${check.subject}): ${check.value}`,
    );
  }
  const resultsDir = path.join(ROOT, "bench/results");
  await mkdir(resultsDir, { recursive: true });
  const jsonFile = path.join(
    resultsDir,
    `${measuredAt.replace(/[:.]/g, "-")}.json`,
  );
  await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nraw results: ${path.relative(ROOT, jsonFile)}`);
  if (options.writeDocs) {
    await writeMarkdownSection(DOCS_FILE, renderMarkdown(report));
    console.log("updated docs/benchmarks.md");
  }
  const failed = checks.filter((check) => !check.pass).length;
  console.log(`${checks.length - failed} targets passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
