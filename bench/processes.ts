import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { applyMigrations } from "../app/db/migrate.server";

export const ROOT = path.resolve(import.meta.dirname, "..");

export const DEFAULT_DATABASE_URL =
  "postgresql://postgres@127.0.0.1:5432/postgres";

/** A database created for one benchmark run and dropped afterwards. */
export interface BenchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop: () => Promise<void>;
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

/** Creates an empty database on `serverUrl` and applies the app's migrations. */
export async function createBenchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<BenchDatabase> {
  const name = `bench_${prefix}_${randomBytes(4).toString("hex")}`;
  await withAdmin(serverUrl, (client) =>
    client.query(`CREATE DATABASE "${name}"`),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString(), path.join(ROOT, "prisma/migrations"));
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // Without a listener, an idle connection that the server closes would
  // crash the run with an unhandled 'error' event.
  pool.on("error", (error) => {
    console.error(`bench: idle connection to ${name} failed: ${error.message}`);
  });
  return {
    name,
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      await withAdmin(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

/** Returns the PostgreSQL version string of `serverUrl`. */
export async function postgresVersion(serverUrl: string): Promise<string> {
  return withAdmin(serverUrl, async (client) => {
    const { rows } = await client.query<{ server_version: string }>(
      "SHOW server_version",
    );
    return rows[0].server_version;
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A server process started by the benchmark. */
export interface BenchServer {
  url: string;
  pid: number;
  output: string[];
  stop: () => Promise<void>;
}

/**
 * Starts `node --import tsx <script>` on a free port and resolves once the
 * process printed `listening` `listeners` times (one line per cluster worker).
 * Extra arguments such as --cpu-prof go before the script.
 */
export async function startBenchServer(options: {
  script: string;
  env: Record<string, string>;
  listeners?: number;
  nodeArgs?: string[];
}): Promise<BenchServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", options.script],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "warn",
        // The load comes from one address, so the per-client limit is
        // lifted; rate limiting has its own tests.
        RATE_LIMIT_POINTS: "1000000000",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve()),
  );
  const expectedListeners = options.listeners ?? 1;
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${options.script} did not start within 60 s:\n${output.join("\n")}`,
          ),
        ),
      60_000,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on("line", (line) => {
        if (output.length < 1000) output.push(line);
        if (/"msg":"listening"/.test(line) && ++seen === expectedListeners) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `${options.script} exited before listening:\n${output.join("\n")}`,
        ),
      );
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
      }
      await exited;
    },
  };
}
