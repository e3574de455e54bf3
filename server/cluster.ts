import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";

/**
 * Runs WEB_CONCURRENCY copies of the production server (server/index.ts) as
 * node:cluster workers sharing one port. The primary only forks, restarts
 * workers that crash and forwards SIGTERM/SIGINT; each worker has its own
 * database pool of DATABASE_POOL_SIZE connections.
 */

/** Pause before a crashed worker is forked again, so a boot loop cannot spin. */
const RESTART_DELAY_MS = 1000;

function log(level: number, msg: string, fields: object = {}): void {
  const line = JSON.stringify({ level, time: Date.now(), msg, ...fields });
  if (level >= 50) console.error(line);
  else console.log(line);
}

function fail(message: string): never {
  log(60, message);
  process.exit(1);
}

function workerCount(): number {
  const raw = process.env.WEB_CONCURRENCY;
  if (raw === undefined || raw === "") {
    // The embedded database serves one process, so without DATABASE_URL the
    // default is a single worker.
    return process.env.DATABASE_URL ? availableParallelism() : 1;
  }
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    fail(
      `WEB_CONCURRENCY must be a whole number from 1 to 256, got ${JSON.stringify(raw)}.`,
    );
  }
  return count;
}

async function runPrimary(): Promise<void> {
  const count = workerCount();
  if (count > 1 && !process.env.DATABASE_URL) {
    fail(
      `WEB_CONCURRENCY=${count} needs DATABASE_URL: the embedded database (PGlite) ` +
        "runs inside one process and cannot be shared by several workers. " +
        "Set DATABASE_URL to a PostgreSQL server or set WEB_CONCURRENCY=1.",
    );
  }

  let stopping = false;
  const listening = new Set<Worker>();
  const fork = (): Worker => cluster.fork();

  cluster.on("listening", (worker) => listening.add(worker));
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
      return;
    }
    if (!listening.delete(worker)) {
      // A worker that dies before it listens (bad env, unreachable database)
      // would fail the same way again, so the whole server stops.
      log(60, "worker exited before it started listening; stopping", {
        pid: worker.process.pid,
        code,
        signal,
      });
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) {
        other?.process.kill("SIGTERM");
      }
      process.exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    log(50, "worker exited; starting a new one", {
      pid: worker.process.pid,
      code,
      signal,
      restartInMs: RESTART_DELAY_MS,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS);
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(30, "stopping workers", { signal });
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    // Each worker drains its in-flight requests on SIGTERM, then exits.
    for (const worker of workers) worker?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  log(30, "starting workers", { workers: count, pid: process.pid });
  for (let i = 0; i < count; i++) fork();
}

if (cluster.isPrimary) {
  await runPrimary();
} else {
  // A worker: the ordinary server, whose listen() shares the primary's port.
  await import("./index.ts");
}
