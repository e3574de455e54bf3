import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import type pg from "pg";
import { TARGETS_MS, type CaseTiming } from "./dashboard-cases";
import type { SeedCounts } from "./dashboard-seed";

export const REPORT_START = "<!-- dashboard:start -->";
export const REPORT_END = "<!-- dashboard:end -->";

export interface ReportInput {
  counts: SeedCounts;
  /** Seed duration in seconds, null when an existing database was measured. */
  seedSeconds: number | null;
  warmups: number;
  iterations: number;
  timings: CaseTiming[];
  /** 1-minute load average before the run began, from os.loadavg(). */
  loadBefore: number;
}

/** Describes the CPU, memory, PostgreSQL and Node versions. */
export async function describeMachine(pool: pg.Pool): Promise<string[]> {
  const cpus = os.cpus();
  const { rows } = await pool.query<{ server_version: string }>(
    "SHOW server_version",
  );
  return [
    `CPU: ${cpus[0]?.model ?? "unknown"}, ${cpus.length} cores`,
    `Memory: ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `PostgreSQL ${rows[0]?.server_version ?? "unknown"}, Node ${process.version}`,
  ];
}

function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

function verdict(timing: CaseTiming): string {
  if (timing.target === null || timing.passed === null) return "no target";
  const goal = `< ${TARGETS_MS[timing.target]} ms`;
  return timing.passed ? `pass (${goal})` : `FAIL (${goal})`;
}

/** Formats the timings as a Markdown table. */
export function timingTable(timings: CaseTiming[]): string[] {
  return [
    "| case | p50 ms | p95 ms | max ms | p95 target |",
    "| --- | ---: | ---: | ---: | --- |",
    ...timings.map(
      (timing) =>
        `| ${timing.name} | ${formatMs(timing.p50)} | ${formatMs(timing.p95)} | ${formatMs(timing.max)} | ${verdict(timing)} |`,
    ),
  ];
}

/** Builds the dashboard section of docs/benchmarks.md, markers included. */
export function renderReport(input: ReportInput, machine: string[]): string {
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const seed =
    input.seedSeconds === null
      ? "an existing database (seed time not measured)"
      : `${input.seedSeconds.toFixed(0)} s`;
  return [
    REPORT_START,
    "",
    "## Dashboard queries at scale",
    "",
    "Written by `npm run bench:dashboard` (bench/dashboard-scale.ts). It seeds",
    "a fresh PostgreSQL database with bench/seed-scale.sql and times the",
    "query functions of each dashboard loader in app/dashboard/. Each case",
    "calls them as the loader does, in parallel where the loader runs two.",
    "A time is the server time of the loader without HTTP and rendering.",
    "",
    `Measured ${date} UTC on:`,
    "",
    ...machine.map((line) => `- ${line}`),
    `- Seeded ${input.counts.messages.toLocaleString("en-US")} messages and ${input.counts.records.toLocaleString("en-US")} request records, plus one request_stats_minute row per minute and channel over 7 days; seed time ${seed}`,
    `- ${input.warmups} warm-up runs, then ${input.iterations} measured runs per case, one at a time`,
    `- 1-minute load average before the run: ${input.loadBefore.toFixed(1)} on ${os.cpus().length} cores${input.loadBefore >= 1 ? ", so other work shared the cores and the times include waiting for a core" : ""}`,
    "",
    "The search cases look for values read from the seed. The sender of the",
    "newest email has about 7 matches. The phone number of an SMS from five",
    "days ago has one old match. The first 8 characters of the oldest phone",
    "number match thousands of messages, all about 7 days old. A recipient",
    "matches one message in 60, and the text case searches an order number.",
    "",
    // Prettier would pad the table columns, which the next run undoes.
    "<!-- prettier-ignore-start -->",
    ...timingTable(input.timings),
    "<!-- prettier-ignore-end -->",
    REPORT_END,
  ].join("\n");
}

/**
 * Replaces the text between the dashboard markers of `file`, or creates the
 * file with only that section. Text outside the markers is kept.
 */
export async function writeReport(file: string, section: string) {
  let current: string | null = null;
  try {
    current = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (current === null) {
    await writeFile(file, `# Benchmarks\n\n${section}\n`);
    return;
  }
  const start = current.indexOf(REPORT_START);
  const end = current.indexOf(REPORT_END);
  if (start === -1 || end === -1 || end < start) {
    await writeFile(file, `${current.trimEnd()}\n\n${section}\n`);
    return;
  }
  await writeFile(
    file,
    current.slice(0, start) + section + current.slice(end + REPORT_END.length),
  );
}
