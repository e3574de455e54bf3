import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { LOCK_FILE, startEmbeddedDatabase } from "../../app/db/embedded.server";

const dirs: string[] = [];

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "embedded-lock-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await rm(dir, { recursive: true, force: true });
  }
});

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

test("lock of running process rejects start", async () => {
  const dataDir = await newDataDir();
  // The test runner's parent process is running for the whole test.
  await writeFile(path.join(dataDir, LOCK_FILE), String(process.ppid));
  await expect(startEmbeddedDatabase({ dataDir, port: 0 })).rejects.toThrow(
    new RegExp(
      `in use by process ${process.ppid}\\. PGlite serves one process`,
    ),
  );
  // The other process's lock stays.
  expect(await readFile(path.join(dataDir, LOCK_FILE), "utf8")).toBe(
    String(process.ppid),
  );
});

test("exited owner lock is taken", async () => {
  const dataDir = await newDataDir();
  const lockPath = path.join(dataDir, LOCK_FILE);
  // Above Linux's maximum pid (4194304), so no process has it.
  await writeFile(lockPath, "2147483646");
  const embedded = await startEmbeddedDatabase({ dataDir, port: 0 });
  try {
    expect(await readFile(lockPath, "utf8")).toBe(String(process.pid));
  } finally {
    await embedded.stop();
  }
  expect(await exists(lockPath)).toBe(false);
});

test("stop releases lock for next start", async () => {
  const dataDir = await newDataDir();
  const first = await startEmbeddedDatabase({ dataDir, port: 0 });
  await first.stop();
  const second = await startEmbeddedDatabase({ dataDir, port: 0 });
  try {
    expect(await readFile(path.join(dataDir, LOCK_FILE), "utf8")).toBe(
      String(process.pid),
    );
  } finally {
    await second.stop();
  }
});
