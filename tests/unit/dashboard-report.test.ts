import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  REPORT_END,
  REPORT_START,
  writeReport,
} from "../../bench/dashboard-report";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dashboard-report-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const section = (text: string) => `${REPORT_START}\n${text}\n${REPORT_END}`;

test("writeReport creates a missing file", async () => {
  const file = path.join(dir, "new.md");
  await writeReport(file, section("first"));
  expect(await readFile(file, "utf8")).toBe(
    `# Benchmarks\n\n${section("first")}\n`,
  );
});

test("writeReport replaces only its section", async () => {
  const file = path.join(dir, "shared.md");
  const ingest = "<!-- ingest:start -->\ningest figures\n<!-- ingest:end -->";
  await writeFile(
    file,
    `# Benchmarks\n\n${ingest}\n\n${section("old")}\n\ntrailer\n`,
  );
  await writeReport(file, section("new"));
  const text = await readFile(file, "utf8");
  expect(text).toBe(
    `# Benchmarks\n\n${ingest}\n\n${section("new")}\n\ntrailer\n`,
  );
});

test("writeReport appends without markers", async () => {
  const file = path.join(dir, "other.md");
  await writeFile(file, "# Benchmarks\n\nother section\n");
  await writeReport(file, section("added"));
  expect(await readFile(file, "utf8")).toBe(
    `# Benchmarks\n\nother section\n\n${section("added")}\n`,
  );
});
