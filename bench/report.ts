import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { format } from "prettier";
import type { LoadResult } from "./load";
import {
  CHANNELS,
  SCENARIO_LABELS,
  type Channel,
  type Scenario,
} from "./payloads";

/** Throughput of the app as a fraction of the baseline, at least. */
export const MIN_THROUGHPUT_RATIO = 0.5;
/** p99 latency of the app in milliseconds, at most. */
export const MAX_P99_MS = 25;
/**
 * Noise allowed when comparing all-duplicates with unique messages: the
 * duplicate run passes with up to 5 % fewer requests per second and a p99
 * up to 5 % higher.
 */
export const DUPLICATE_TOLERANCE = 0.05;

export interface CaseResult {
  channel: Channel;
  scenario: Scenario;
  app: LoadResult;
  baseline: LoadResult;
  /** app.rps / baseline.rps */
  ratio: number;
}

export interface DedupCheck {
  copies: number;
  created: number;
  duplicates: number;
  other: number;
  rows: number;
}

/** One start of the cluster: unique sms messages, then all duplicates. */
export interface ScaleRound {
  unique: LoadResult;
  duplicates: LoadResult;
}

export interface ScaleResult {
  processes: number;
  /** One entry per round, in the order the rounds ran. */
  rounds: ScaleRound[];
  dedup: DedupCheck;
}

/**
 * Returns the load with the median throughput, the lower middle one of an
 * even count. Its latency and CPU figures come from the same run.
 */
export function medianLoad(loads: readonly LoadResult[]): LoadResult {
  if (loads.length === 0) throw new Error("medianLoad needs at least one load");
  const sorted = [...loads].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

type ScaleScenario = keyof ScaleRound;

const SCALE_SCENARIO_LABELS: Record<ScaleScenario, string> = {
  unique: "unique messages",
  duplicates: "all duplicates",
};

function medianOf(run: ScaleResult, scenario: ScaleScenario): LoadResult {
  return medianLoad(run.rounds.map((round) => round[scenario]));
}

function growth(rps: number, single: number): string {
  const change = single > 0 ? (rps / single - 1) * 100 : 0;
  return `${change >= 0 ? "+" : ""}${change.toFixed(1)} %`;
}

export interface TargetCheck {
  target: string;
  subject: string;
  value: string;
  pass: boolean;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  loadAverageAtStart: number[];
}

export interface BenchReport {
  measuredAt: string;
  machine: Machine;
  settings: {
    connections: number;
    durationSeconds: number;
    poolSize: number;
    quick: boolean;
    /** The command line of the run, such as `npm run bench -- --quick`. */
    command: string;
    /**
     * The Redis server that the scale-out workers shared for rate limits,
     * or null when each worker counted in its own memory.
     */
    scaleRedis?: string | null;
  };
  cases: CaseResult[];
  scale: ScaleResult[];
  checks: TargetCheck[];
}

/** Describes the machine the run is on. */
export function describeMachine(postgres: string): Machine {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const release = execFileSync("sh", [
      "-c",
      '. /etc/os-release && echo "$PRETTY_NAME"',
    ])
      .toString()
      .trim();
    if (release) osName = `${release}, kernel ${os.release()}`;
  } catch {
    // /etc/os-release is missing outside Linux; the kernel name is enough.
  }
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName,
    node: process.version,
    postgres,
    loadAverageAtStart: os
      .loadavg()
      .map((load) => Math.round(load * 100) / 100),
  };
}

function expectedStatuses(scenario: Scenario): number[] {
  if (scenario === "unique") return [201];
  if (scenario === "alldup") return [409];
  return [201, 409];
}

function unexpectedResponses(scenario: Scenario, load: LoadResult): number {
  const allowed = expectedStatuses(scenario).map(String);
  let count = load.errors + load.timeouts;
  for (const [status, n] of Object.entries(load.statuses)) {
    if (!allowed.includes(status)) count += n;
  }
  return count;
}

/** Checks every target against the measured cases and scale runs. */
export function checkTargets(
  cases: CaseResult[],
  scale: ScaleResult[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const result of cases) {
    const subject = `${result.channel}, ${SCENARIO_LABELS[result.scenario]}`;
    const unexpected = unexpectedResponses(result.scenario, result.app);
    checks.push({
      target: `only ${expectedStatuses(result.scenario).join("/")} responses`,
      subject,
      value: `${unexpected} other`,
      pass: unexpected === 0 && result.app.requests > 0,
    });
    checks.push({
      target: `throughput >= ${MIN_THROUGHPUT_RATIO * 100} % of baseline`,
      subject,
      value: `${(result.ratio * 100).toFixed(1)} %`,
      pass: result.ratio >= MIN_THROUGHPUT_RATIO,
    });
    checks.push({
      target: `p99 <= ${MAX_P99_MS} ms`,
      subject,
      value: `${result.app.p99} ms`,
      pass: result.app.p99 <= MAX_P99_MS,
    });
  }
  for (const channel of CHANNELS) {
    const unique = cases.find(
      (c) => c.channel === channel && c.scenario === "unique",
    );
    const duplicate = cases.find(
      (c) => c.channel === channel && c.scenario === "alldup",
    );
    if (!unique || !duplicate) continue;
    checks.push({
      target: "duplicate rps >= unique rps",
      subject: channel,
      value: `${duplicate.app.rps} vs ${unique.app.rps}`,
      pass: duplicate.app.rps >= unique.app.rps * (1 - DUPLICATE_TOLERANCE),
    });
    checks.push({
      target: "duplicate p99 <= unique p99",
      subject: channel,
      value: `${duplicate.app.p99} vs ${unique.app.p99} ms`,
      pass: duplicate.app.p99 <= unique.app.p99 * (1 + DUPLICATE_TOLERANCE),
    });
  }
  const single = scale.find((run) => run.processes === 1);
  for (const run of scale) {
    if (!single || run.processes === 1) continue;
    for (const scenario of ["unique", "duplicates"] as const) {
      const many = medianOf(run, scenario).rps;
      const one = medianOf(single, scenario).rps;
      checks.push({
        target: "throughput grows with processes",
        subject: `${run.processes} vs 1 process, ${SCALE_SCENARIO_LABELS[scenario]}`,
        value: `${many} vs ${one} req/s (${growth(many, one)})`,
        pass: many > one,
      });
    }
  }
  for (const run of scale) {
    const { dedup } = run;
    checks.push({
      target: "dedup exact across processes",
      subject: `${run.processes} process${run.processes === 1 ? "" : "es"}`,
      value: `${dedup.created} × 201, ${dedup.duplicates} × 409, ${dedup.rows} row`,
      pass:
        dedup.created === 1 &&
        dedup.duplicates === dedup.copies - 1 &&
        dedup.rows === 1,
    });
  }
  return checks;
}

function latencies(load: LoadResult): string {
  return `${load.p50} / ${load.p95} / ${load.p99}`;
}

function coresOf(load: LoadResult): string {
  if (!load.cpu) return "not measured";
  const { cores } = load.cpu;
  return `${cores.app} / ${cores.postgres} / ${cores.client} / ${cores.redis ?? "–"}`;
}

function msPerRequestOf(load: LoadResult): string {
  if (!load.cpu) return "not measured";
  const { msPerRequest } = load.cpu;
  return `${msPerRequest.app} / ${msPerRequest.postgres} / ${msPerRequest.client} / ${msPerRequest.redis ?? "–"}`;
}

/** Returns the cores the whole machine kept busy, of how many it has. */
function machineBusyOf(load: LoadResult): string {
  if (load.cpu?.cores.machine === undefined) return "not measured";
  return `${load.cpu.cores.machine} of ${load.cpu.machineCores}`;
}

/** Renders the CPU split of every case, or nothing when it was not measured. */
function renderCpu(report: BenchReport): string[] {
  if (!report.cases.some((result) => result.app.cpu)) return [];
  const lines = [
    "",
    "CPU time per request in milliseconds and cores busy on average, each as",
    "server / PostgreSQL / load generator / Redis, read from /proc during the",
    "case. PostgreSQL counts every postgres process on the machine and Redis",
    "every redis-server; the ingest cases make no Redis calls. Machine is the",
    "non-idle time of all cores from /proc/stat, kernel work included; what it",
    `leaves of the ${report.machine.cores} cores was idle.`,
    "",
    "| Channel | Scenario | App CPU ms | App cores | App machine | Baseline CPU ms | Baseline cores | Baseline machine |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const result of report.cases) {
    lines.push(
      `| ${result.channel} | ${SCENARIO_LABELS[result.scenario]} | ${msPerRequestOf(result.app)} | ${coresOf(result.app)} | ${machineBusyOf(result.app)} | ` +
        `${msPerRequestOf(result.baseline)} | ${coresOf(result.baseline)} | ${machineBusyOf(result.baseline)} |`,
    );
  }
  return lines;
}

/** Renders the scale-out runs, or nothing when none ran. */
function renderScale(report: BenchReport): string[] {
  if (report.scale.length === 0) return [];
  const rounds = Math.max(...report.scale.map((run) => run.rounds.length));
  const single = report.scale.find((run) => run.processes === 1);
  const lines = [
    "",
    "Scale-out: `npm run start:cluster` with WEB_CONCURRENCY workers against",
    "one PostgreSQL, a fresh database for each start. Rate limits are counted",
    report.settings.scaleRedis
      ? `in one Redis shared by the workers (${report.settings.scaleRedis}), with a limit no run reaches. Each round starts every`
      : "in each worker's memory, with a limit no run reaches. Each round starts every",
    "worker count once, in alternating order, and measures unique sms",
    "messages, then duplicates of one stored message. Then 100 identical",
    "POSTs are sent at once on separate connections. The table gives the",
    `median of ${rounds} round${rounds === 1 ? "" : "s"}; latency and cores come from the median round.`,
  ];
  for (const scenario of ["unique", "duplicates"] as const) {
    lines.push(
      "",
      `| Processes | Req/s per round, ${SCALE_SCENARIO_LABELS[scenario]} | Median req/s | Against 1 process | Latency | Cores busy: app / PostgreSQL / load generator / Redis | Machine cores busy |`,
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const run of report.scale) {
      const median = medianOf(run, scenario);
      const against = single
        ? growth(median.rps, medianOf(single, scenario).rps)
        : "not measured";
      lines.push(
        `| ${run.processes} | ${run.rounds.map((round) => round[scenario].rps).join(", ")} | ${median.rps} | ` +
          `${against} | ${latencies(median)} | ${coresOf(median)} | ${machineBusyOf(median)} |`,
      );
    }
  }
  lines.push(
    "",
    "| Processes | Concurrent identical POSTs |",
    "| ---: | --- |",
  );
  for (const run of report.scale) {
    lines.push(
      `| ${run.processes} | ${run.dedup.created} × 201, ${run.dedup.duplicates} × 409, ${run.dedup.rows} row stored |`,
    );
  }
  return lines;
}

/** Renders the report as the Markdown that goes between the markers. */
export function renderMarkdown(report: BenchReport): string {
  const { machine, settings } = report;
  const lines = [
    `Measured ${report.measuredAt} with \`${settings.command}\`` +
      ` (autocannon, ${settings.connections} connections, ${settings.durationSeconds} s per case,` +
      ` database pool ${settings.poolSize} per process).`,
    "",
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB memory, ${machine.os};` +
      ` Node ${machine.node}; PostgreSQL ${machine.postgres} on the same machine.` +
      ` Load average at start: ${machine.loadAverageAtStart.join(", ")}.`,
  ];
  if (machine.loadAverageAtStart[0] > machine.cores) {
    lines.push(
      "",
      `NOTE: the 1-minute load average at start (${machine.loadAverageAtStart[0]}) was above the ` +
        `core count (${machine.cores}), so other processes competed for the CPU and these ` +
        "numbers understate what this machine does. Measure again on an idle machine.",
    );
  }
  lines.push(
    "",
    "Latency is p50 / p95 / p99 in milliseconds. The baseline is",
    "bench/baseline-server.ts: node:http and pg doing one",
    "`INSERT ... ON CONFLICT DO NOTHING` per request into the same table.",
    "",
    "| Channel | Scenario | App req/s | App latency | Baseline req/s | Baseline latency | App / baseline |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const result of report.cases) {
    lines.push(
      `| ${result.channel} | ${SCENARIO_LABELS[result.scenario]} | ${result.app.rps} | ${latencies(result.app)} | ` +
        `${result.baseline.rps} | ${latencies(result.baseline)} | ${(result.ratio * 100).toFixed(1)} % |`,
    );
  }
  lines.push(...renderCpu(report));
  lines.push(...renderScale(report));
  lines.push(
    "",
    "| Target | Case | Measured | Result |",
    "| --- | --- | --- | --- |",
  );
  for (const check of report.checks) {
    lines.push(
      `| ${check.target} | ${check.subject} | ${check.value} | ${check.pass ? "pass" : "FAIL"} |`,
    );
  }
  return lines.join("\n");
}

export const START_MARKER = "<!-- bench:start -->";
export const END_MARKER = "<!-- bench:end -->";

const NEW_PAGE = `# Benchmarks

Ingest throughput and latency, measured by \`npm run bench\` (bench/run.ts).
Numbers depend on the machine and on what else runs on it; each section
names its machine and date.

${START_MARKER}
${END_MARKER}
`;

/**
 * Replaces the text between the bench markers in `file`, creating the page
 * with the markers when it does not exist. Text outside the markers is kept.
 */
export async function writeMarkdownSection(
  file: string,
  markdown: string,
): Promise<void> {
  let page: string;
  try {
    page = await readFile(file, "utf8");
  } catch {
    page = NEW_PAGE;
  }
  let start = page.indexOf(START_MARKER);
  let end = page.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    page = `${page.trimEnd()}\n\n${START_MARKER}\n${END_MARKER}\n`;
    start = page.indexOf(START_MARKER);
    end = page.indexOf(END_MARKER);
  }
  const updated =
    page.slice(0, start + START_MARKER.length) +
    `\n${markdown}\n` +
    page.slice(end);
  await mkdir(path.dirname(file), { recursive: true });
  // Formatted as `npm run format` would, so that formatting changes nothing.
  await writeFile(file, await format(updated, { filepath: file }));
}
