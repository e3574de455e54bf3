// Generates the Prisma client offline. `prisma generate` never runs the
// schema engine, but Prisma 7's CLI downloads one unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file, so this points it at
// this script when nothing else is set.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("npx", ["--no-install", "prisma", "generate"], {
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
