import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type pg from "pg";

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Every line the server printed so far. */
  output: string[];
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * Starts the built app (server/index.ts over build/) on a free port and
 * resolves once it listens. The caller's env is added to a quiet default.
 * `script` runs another entry point such as server/cluster.ts, and
 * `listeners` waits for that many "listening" lines (one per worker).
 */
export async function startServer(
  env: Record<string, string | undefined>,
  options: { script?: string; listeners?: number } = {},
): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", options.script ?? "server/index.ts"],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "info",
        REQUEST_LOG_FLUSH_MS: "20",
        // Every test signs in from 127.0.0.1, so the default of 10 logins
        // per 15 minutes per IP would end a test file early.
        LOGIN_RATE_LIMIT_POINTS: "10000",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  let listening = 0;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${output.join("\n")}`)),
      30_000,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on("line", (line) => {
        output.push(line);
        const match = /"msg":"listening","url":"([^"]+)"/.exec(line);
        if (match && ++listening === (options.listeners ?? 1)) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `server exited with ${code} before listening:\n${output.join("\n")}`,
        ),
      );
    });
  });
  return {
    url,
    process: child,
    output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(signal);
      return exited;
    },
  };
}

/** Runs the built app once to completion and returns its exit code and output. */
export async function runServerToExit(
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
  script = "server/index.ts",
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      ...env,
    } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) =>
    child.once("exit", resolve),
  );
  clearTimeout(timer);
  return { code, output };
}

/** Polls `check` until it returns a value other than undefined. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until the request record of `requestId` is written (the server
 * writes records in batches) and returns its row.
 */
export async function waitForRequestRecord(
  pool: pg.Pool,
  requestId: string,
): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const { rows } = await pool.query<Record<string, unknown>>(
      "SELECT * FROM request_record WHERE request_id = $1",
      [requestId],
    );
    return rows[0];
  });
}
