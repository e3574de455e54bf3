// Load test of webhook ingest. It starts the built app on a fresh database
// and sends POST /api/webhooks/test-multichannel from many connections, a
// share of them with duplicate message ids. It then checks that the stored
// rows match the 2xx responses exactly and writes the figures to
// docs/benchmarks.md.
//
//   npm run build && npm run load -- --duration 30 --connections 200
//
// The database server is LOAD_DATABASE_URL (default: the PostgreSQL at
// 127.0.0.1:5432); the script creates and drops its own database there.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENDPOINT = "/api/webhooks/test-multichannel";
const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
export const DOCS_FILE = path.join(ROOT, "docs/benchmarks.md");
export const START_MARKER = "<!-- load:start -->";
export const END_MARKER = "<!-- load:end -->";

/** The part of autocannon's API this script uses (autocannon 8). */
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface AutocannonInstance {
  on: (
    event: "response",
    listener: (
      client: unknown,
      status: number,
      bytes: number,
      responseTimeMs: number,
    ) => void,
  ) => void;
}
interface AutocannonResult {
  requests: { total: number; average: number };
  duration: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    requests: Array<
      AutocannonRequest & {
        setupRequest: (
          request: AutocannonRequest,
          context: LoadContext,
        ) => AutocannonRequest;
        onResponse: (
          status: number,
          body: string,
          context: LoadContext,
        ) => void;
      }
    >;
  },
  callback: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

/** Per-request state that autocannon hands from setupRequest to onResponse. */
interface LoadContext {
  messageId?: string;
  duplicate?: boolean;
}

export interface LoadOptions {
  durationSeconds: number;
  connections: number;
  /** Share of requests that resend an already acknowledged message id. */
  duplicateRatio: number;
  /** Server whose maintenance database is used to create the run's database. */
  databaseServerUrl: string;
}

export interface LoadReport {
  options: LoadOptions;
  requests: number;
  requestsPerSecond: number;
  durationSeconds: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  statuses: Record<string, number>;
  connectionErrors: number;
  timeouts: number;
  /** Rows in message after the run. */
  storedRows: number;
  /** Messages sent whose response had not arrived when the run stopped. */
  unanswered: number;
  /** Problems the checks found. Empty when stored rows match the responses. */
  mismatches: string[];
  serverErrors: number;
  machine: string;
  /** One-minute load average when the run started; other work skews results. */
  loadAverageAtStart: number;
}

/** Percentile `p` (0-100) of sorted values, nearest rank. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus.length} × ${model}, ${memoryGiB} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

interface StartedServer {
  url: string;
  child: ChildProcess;
  output: string[];
}

async function startApp(databaseUrl: string): Promise<StartedServer> {
  if (!existsSync(path.join(ROOT, "build/server/index.js")))
    throw new Error(
      "build/server/index.js is missing; run npm run build first",
    );
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "server/index.ts"],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "warn",
        DATABASE_URL: databaseUrl,
        // The load comes from one address, so the per-client limit is
        // lifted; rate limiting has its own tests.
        RATE_LIMIT_POINTS: "1000000000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${output.join("\n")}`)),
      30_000,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join("\n")}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on("line", (line) => {
        output.push(line);
        const match = /"msg":"listening","url":"([^"]+)"/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    }
  });
  return { url, child, output };
}

async function stopApp(server: StartedServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

function databaseUrlFor(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(
  serverUrl: string,
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs one load test on a database of its own and returns the figures and
 * the result of the match between stored rows and responses.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const loadAverageAtStart = os.loadavg()[0];
  const runId = randomBytes(4).toString("hex");
  const databaseName = `load_${runId}`;
  await withAdmin(options.databaseServerUrl, (client) =>
    client.query(`CREATE DATABASE "${databaseName}"`),
  );
  const databaseUrl = databaseUrlFor(options.databaseServerUrl, databaseName);
  let server: StartedServer | undefined;
  try {
    server = await startApp(databaseUrl);
    const traffic = await sendTraffic(server.url, runId, options);
    await stopApp(server);
    const report = await checkStored(databaseUrl, options, traffic);
    return { ...report, loadAverageAtStart };
  } finally {
    if (server) await stopApp(server);
    await withAdmin(options.databaseServerUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`),
    );
  }
}

interface Traffic {
  result: AutocannonResult;
  latencies: number[];
  /** messageId → id from the 201 response. */
  accepted: Map<string, string>;
  /** [messageId, duplicateOf] of each 409 response. */
  duplicates: Array<[string, string]>;
  sent: Set<string>;
  answered: Set<string>;
  problems: string[];
}

async function sendTraffic(
  url: string,
  runId: string,
  options: LoadOptions,
): Promise<Traffic> {
  const traffic: Traffic = {
    result: undefined as unknown as AutocannonResult,
    latencies: [],
    accepted: new Map(),
    duplicates: [],
    sent: new Set(),
    answered: new Set(),
    problems: [],
  };
  const acknowledged: string[] = [];
  let sequence = 0;

  const setupRequest = (
    request: AutocannonRequest,
    context: LoadContext,
  ): AutocannonRequest => {
    const duplicate =
      acknowledged.length > 0 && Math.random() < options.duplicateRatio;
    const messageId = duplicate
      ? acknowledged[Math.floor(Math.random() * acknowledged.length)]
      : `load-${runId}-${sequence++}`;
    context.messageId = messageId;
    context.duplicate = duplicate;
    if (!duplicate) traffic.sent.add(messageId);
    return {
      ...request,
      body: JSON.stringify({
        channel: "sms",
        from: "+14155550100",
        to: "+14155550111",
        text: `load ${messageId}${duplicate ? " again" : ""}`,
        messageId,
      }),
    };
  };

  const onResponse = (status: number, body: string, context: LoadContext) => {
    const messageId = context.messageId!;
    traffic.answered.add(messageId);
    if (status === 201) {
      const { id } = JSON.parse(body) as { id: string };
      if (context.duplicate)
        traffic.problems.push(`resent ${messageId} was stored again as ${id}`);
      traffic.accepted.set(messageId, id);
      acknowledged.push(messageId);
    } else if (status === 409) {
      const { duplicateOf } = JSON.parse(body) as { duplicateOf: string };
      traffic.duplicates.push([messageId, duplicateOf]);
    }
  };

  traffic.result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: [
          {
            method: "POST",
            path: ENDPOINT,
            headers: { "content-type": "application/json" },
            setupRequest,
            onResponse,
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on("response", (_client, _status, _bytes, responseTimeMs) => {
      traffic.latencies.push(responseTimeMs);
    });
  });
  return traffic;
}

async function checkStored(
  databaseUrl: string,
  options: LoadOptions,
  traffic: Traffic,
): Promise<Omit<LoadReport, "loadAverageAtStart">> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let rows: Array<{ id: string; external_id: string }>;
  try {
    rows = (
      await client.query<{ id: string; external_id: string }>(
        "SELECT id::text, external_id FROM message",
      )
    ).rows;
  } finally {
    await client.end();
  }

  const mismatches = [...traffic.problems];
  const storedByMessageId = new Map(
    rows.map((row) => [row.external_id, row.id]),
  );
  for (const [messageId, id] of traffic.accepted) {
    if (storedByMessageId.get(messageId) !== id)
      mismatches.push(`201 for ${messageId} (${id}) but no such row`);
  }
  for (const [messageId, duplicateOf] of traffic.duplicates) {
    if (storedByMessageId.get(messageId) !== duplicateOf)
      mismatches.push(
        `409 for ${messageId} points to ${duplicateOf}, not the stored row`,
      );
  }
  // A row without a 201 may only come from a request still in flight when
  // autocannon stopped, whose response was never read.
  let unansweredStored = 0;
  for (const row of rows) {
    if (traffic.accepted.has(row.external_id)) continue;
    if (traffic.answered.has(row.external_id))
      mismatches.push(
        `row ${row.id} for ${row.external_id} got a response other than 201`,
      );
    else if (traffic.sent.has(row.external_id)) unansweredStored++;
    else mismatches.push(`row ${row.id} for ${row.external_id} was never sent`);
  }
  const storedAnswered = rows.length - unansweredStored;
  if (storedAnswered !== traffic.accepted.size)
    mismatches.push(
      `${traffic.accepted.size} responses were 201 but ${storedAnswered} answered rows are stored`,
    );

  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(
    traffic.result.statusCodeStats,
  ))
    statuses[status] = count;
  const serverErrors = Object.entries(statuses)
    .filter(([status]) => Number(status) >= 500)
    .reduce((sum, [, count]) => sum + count, 0);
  const sorted = [...traffic.latencies].sort((a, b) => a - b);
  const answered = traffic.latencies.length;
  return {
    options,
    requests: answered,
    requestsPerSecond: answered / traffic.result.duration,
    durationSeconds: traffic.result.duration,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? 0,
    },
    statuses,
    connectionErrors: traffic.result.errors,
    timeouts: traffic.result.timeouts,
    storedRows: rows.length,
    unanswered: unansweredStored,
    mismatches,
    serverErrors,
    machine: describeMachine(),
  };
}

/** Renders a report as the Markdown section between the load markers. */
export function formatReport(report: LoadReport, date = new Date()): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const statuses = Object.entries(report.statuses)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(", ");
  const match =
    report.mismatches.length === 0
      ? "yes: every 201 id is stored, every 409 points to the stored id, and every other row comes from a request in flight at the stop"
      : `no: ${report.mismatches.slice(0, 5).join("; ")}`;
  return [
    "## Ingest load test",
    "",
    `Measured ${date.toISOString().slice(0, 10)} with \`npm run load -- --duration ${report.options.durationSeconds} --connections ${report.options.connections}\` ` +
      `(scripts/load.ts, autocannon): POST ${ENDPOINT} with unique sms messages and ` +
      `${Math.round(report.options.duplicateRatio * 100)} % resent message ids, against the built app ` +
      "on a fresh PostgreSQL database on the same machine. Client, app and database share the CPUs.",
    "",
    "| figure | value |",
    "| --- | --- |",
    `| machine | ${report.machine} |`,
    `| 1-minute load average at start | ${report.loadAverageAtStart.toFixed(1)} |`,
    `| duration | ${report.durationSeconds} s, ${report.options.connections} connections |`,
    `| responses received | ${report.requests} |`,
    `| requests per second | ${report.requestsPerSecond.toFixed(0)} |`,
    `| latency p50 / p95 / p99 / max | ${ms(report.latencyMs.p50)} / ${ms(report.latencyMs.p95)} / ${ms(report.latencyMs.p99)} / ${ms(report.latencyMs.max)} |`,
    `| statuses | ${statuses} |`,
    `| 5xx responses | ${report.serverErrors} |`,
    `| connection errors / timeouts | ${report.connectionErrors} / ${report.timeouts} |`,
    `| rows stored | ${report.storedRows} (${report.unanswered} from requests in flight when the run stopped) |`,
    `| stored rows match the responses | ${match} |`,
  ].join("\n");
}

/** Replaces the text between the load markers, creating the file if needed. */
export async function writeReport(markdown: string, file = DOCS_FILE) {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    text = "# Benchmarks\n";
  }
  const section = `${START_MARKER}\n${markdown}\n${END_MARKER}`;
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  if (start !== -1 && end > start) {
    text = text.slice(0, start) + section + text.slice(end + END_MARKER.length);
  } else {
    text = `${text.trimEnd()}\n\n${section}\n`;
  }
  await writeFile(file, text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "30" },
      connections: { type: "string", default: "200" },
      duplicates: { type: "string", default: "0.1" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const options: LoadOptions = {
    durationSeconds: Number(values.duration),
    connections: Number(values.connections),
    duplicateRatio: Number(values.duplicates),
    databaseServerUrl: process.env.LOAD_DATABASE_URL ?? DEFAULT_DATABASE_URL,
  };
  if (!(options.durationSeconds > 0))
    throw new Error(
      `--duration must be a positive number of seconds, got ${values.duration}`,
    );
  if (!Number.isInteger(options.connections) || options.connections < 1)
    throw new Error(
      `--connections must be a positive integer, got ${values.connections}`,
    );
  if (!(options.duplicateRatio >= 0 && options.duplicateRatio < 1))
    throw new Error(
      `--duplicates must be a fraction from 0 to below 1, got ${values.duplicates}`,
    );

  const report = await runLoad(options);
  const markdown = formatReport(report);
  console.log(markdown);
  if (!values["no-write"]) {
    await writeReport(markdown);
    console.log(`\nwrote ${path.relative(process.cwd(), DOCS_FILE)}`);
  }
  if (report.serverErrors > 0 || report.mismatches.length > 0) {
    console.error(
      "load test failed: 5xx responses, or stored rows do not match the responses",
    );
    process.exitCode = 1;
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
