// Fills DATABASE_URL, or the embedded database in DATA_DIR when it is unset,
// with generated webhook traffic for the dashboard.
// Usage: npm run db:seed -- [--count N]   (N messages, default 500)
import { parseArgs } from "node:util";
import { getApp, stopApp } from "../app/boot.server";
import { seedDatabase } from "../app/dashboard/seed.server";

const DEFAULT_COUNT = 500;

function readCount(): number {
  const { values } = parseArgs({
    options: { count: { type: "string", default: String(DEFAULT_COUNT) } },
  });
  const count = Number(values.count);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new Error(
      `--count must be a positive whole number of messages, got ${JSON.stringify(values.count)}.`,
    );
  }
  return count;
}

try {
  const count = readCount();
  const app = await getApp();
  const started = performance.now();
  const result = await seedDatabase(app.pool, { count });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `seeded ${result.messages} messages, ${result.requestRecords} request records ` +
      `(${result.duplicates} duplicates, ${result.failures} failures) and ` +
      `${result.statusEvents} status events in ${seconds} s`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopApp();
}
