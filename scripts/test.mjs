// Runs every test: builds the app, then Vitest (unit and integration), then
// Playwright (browser). The database server is TEST_DATABASE_URL when set,
// else the PostgreSQL on 127.0.0.1:5432 when it accepts connections, else an embedded
// PGlite per test file. Extra arguments go to Vitest.
import { spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import pg from "pg";

const LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

async function reachable(url) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pickDatabase() {
  if (process.env.TEST_DATABASE_MODE === "embedded") return embedded();
  if (process.env.TEST_DATABASE_URL) {
    return {
      url: process.env.TEST_DATABASE_URL,
      label: "TEST_DATABASE_URL",
      stop: async () => {},
    };
  }
  if (await reachable(LOCAL_URL)) {
    return {
      url: LOCAL_URL,
      label: "PostgreSQL on 127.0.0.1:5432",
      stop: async () => {},
    };
  }
  return embedded();
}

// No server: every test file starts an in-process PGlite of its own
// (tests/support/database.ts), because one PGlite serves one database.
function embedded() {
  return {
    url: null,
    label: "embedded PGlite, one per test file",
    stop: async () => {},
  };
}

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: "inherit",
      env: { ...process.env, ...env },
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function readCounts(file, read) {
  try {
    return read(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return null;
  }
}

const args = process.argv.slice(2);
const skipE2e = args.includes("--no-e2e") || process.env.SKIP_E2E === "1";
const vitestArgs = args.filter((arg) => arg !== "--no-e2e");

const database = await pickDatabase();
console.log(`tests use the database server: ${database.label}`);
const env = database.url
  ? { TEST_DATABASE_URL: database.url }
  : { TEST_DATABASE_MODE: "embedded" };

let failed = false;
try {
  if (process.env.SKIP_BUILD !== "1") {
    if ((await run("npm", ["run", "build"], {})) !== 0)
      throw new Error("build failed");
  }
  await mkdir("test-results", { recursive: true });
  const vitestCode = await run(
    "npx",
    [
      "vitest",
      "run",
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=test-results/vitest.json",
      ...vitestArgs,
    ],
    env,
  );
  failed ||= vitestCode !== 0;
  let playwrightCode = 0;
  if (!skipE2e && vitestArgs.length === 0) {
    playwrightCode = await run(
      "npx",
      ["playwright", "test", "--pass-with-no-tests"],
      {
        ...env,
        PLAYWRIGHT_JSON_OUTPUT_NAME: "test-results/playwright.json",
      },
    );
    failed ||= playwrightCode !== 0;
  }

  const vitest = await readCounts("test-results/vitest.json", (report) => ({
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
  }));
  const playwright =
    skipE2e || vitestArgs.length > 0
      ? { passed: 0, failed: 0, skipped: 0 }
      : await readCounts("test-results/playwright.json", (report) => ({
          passed: report.stats.expected,
          failed: report.stats.unexpected + report.stats.flaky,
          skipped: report.stats.skipped,
        }));
  if (!vitest || !playwright) {
    console.error("a test runner wrote no report; counting the run as failed");
    failed = true;
  } else {
    const passed = vitest.passed + playwright.passed;
    const failures = vitest.failed + playwright.failed;
    const skipped = vitest.skipped + playwright.skipped;
    if (failures > 0 || passed === 0) failed = true;
    console.log(`\nvitest: ${vitest.passed} passed, ${vitest.failed} failed`);
    console.log(
      `playwright: ${playwright.passed} passed, ${playwright.failed} failed`,
    );
    console.log(
      `total: ${passed} passed, ${failures} failed, ${skipped} skipped`,
    );
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  failed = true;
} finally {
  await database.stop();
}
process.exit(failed ? 1 : 0);
