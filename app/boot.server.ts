import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { startAuth } from "~/auth/bootstrap.server";
import { PrismaClient } from "~/generated/prisma/client";
import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
} from "~/db/embedded.server";
import { applyMigrations } from "~/db/migrate.server";
import { env, type Env } from "~/env.server";
import type { IngestContext } from "~/ingest/context.server";
import { isDatabaseUnavailable } from "~/ingest/database-errors.server";
import { whenIdle } from "~/ingest/in-flight.server";
import { createRateLimiter } from "~/ingest/rate-limit.server";
import { RequestRecordWriter } from "~/ingest/request-records.server";
import { flushLogs, logger } from "~/logger.server";
import { flushSentry, initSentry } from "~/sentry.server";
import { startRetentionSchedule } from "~/maintenance/retention.server";

/** Everything the running server holds: one of each per process. */
export interface AppContext extends IngestContext {
  prisma: PrismaClient;
  databaseUrl: string;
  embedded: EmbeddedDatabase | null;
  /** Functions run at shutdown, after the HTTP server stops accepting. */
  onShutdown: Array<() => Promise<void>>;
  /**
   * A loopback URL of the listening server, set by server/index.ts once it
   * listens, so the server can call its own endpoints without trusting the
   * Host header. It stays null under `remix vite:dev`.
   */
  listenUrl: string | null;
}

declare global {
  var __webhookInboxApp: Promise<AppContext> | undefined;
  /**
   * Set by server/index.ts, which stops the app itself once its HTTP server
   * has closed. Without it the app stops on SIGTERM and SIGINT on its own.
   */
  var __webhookInboxServerStopsApp: boolean | undefined;
  /** True from the first shutdown signal on; getApp then rejects. */
  var __webhookInboxStopping: boolean | undefined;
}

/** Raised by getApp once the process is shutting down. */
export class ShuttingDownError extends Error {
  constructor() {
    super("The server is shutting down.");
    this.name = "ShuttingDownError";
  }
}

/** Hides the password of a connection string for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/**
 * Returns the server clock. TEST_CLOCK_ISO pins it, so that fixtures signed
 * at a past time pass the timestamp window, but only when NODE_ENV=test.
 */
function clockOf(config: Env): () => Date {
  const fixed = config.TEST_CLOCK_ISO;
  if (fixed === undefined) return () => new Date();
  if (config.NODE_ENV !== "test") {
    logger.warn(
      { nodeEnv: config.NODE_ENV },
      "TEST_CLOCK_ISO is ignored unless NODE_ENV=test",
    );
    return () => new Date();
  }
  logger.warn({ clock: fixed }, "server clock is fixed by TEST_CLOCK_ISO");
  return () => new Date(fixed);
}

async function start(config: Env): Promise<AppContext> {
  initSentry(config.SENTRY_DSN, config.SENTRY_ENVIRONMENT);
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.DATABASE_URL;
  if (databaseUrl === undefined) {
    embedded = await startEmbeddedDatabase({
      dataDir: config.DATA_DIR,
      port: config.EMBEDDED_DB_PORT,
    });
    databaseUrl = embedded.url;
    logger.info(
      {
        database: "embedded",
        dataDir: embedded.dataDir,
        url: redactUrl(databaseUrl),
      },
      "using the embedded PostgreSQL (PGlite); set DATABASE_URL to use a PostgreSQL server",
    );
  } else {
    logger.info(
      { database: "postgresql", url: redactUrl(databaseUrl) },
      "using PostgreSQL",
    );
  }

  const applied = await applyMigrationsAtBoot(databaseUrl);
  logger.info(
    { applied },
    applied.length ? "migrations applied" : "database schema is up to date",
  );

  const pool = new pg.Pool({
    connectionString: databaseUrl,
    // PGlite has a single session behind all socket connections, so a
    // transaction on one connection would take in statements sent on another.
    // One connection keeps transactions whole.
    max: embedded ? 1 : config.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: 3000,
    query_timeout: config.DATABASE_QUERY_TIMEOUT_MS,
    // The embedded connection is kept open: a new one would land in the same
    // PGlite session, where the named prepared statements of the old one
    // still exist.
    idleTimeoutMillis: embedded ? 0 : 30_000,
  });
  pool.on("error", (error) => {
    logger.error({ err: error }, "idle database connection failed");
  });
  if (embedded) {
    // After a broken connection is replaced, the new one must start without
    // the prepared statements that pg recorded for the old one only.
    pool.on("connect", (client) => {
      client.query("DEALLOCATE ALL").catch((error: unknown) => {
        logger.error({ err: error }, "resetting the embedded session failed");
      });
    });
  }

  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const records = new RequestRecordWriter(pool, config.REQUEST_LOG_FLUSH_MS);
  const rateLimiter = createRateLimiter(config);
  await rateLimiter.ready;
  logger.info(
    {
      store: rateLimiter.store,
      points: config.RATE_LIMIT_POINTS,
      durationSeconds: config.RATE_LIMIT_DURATION_SECONDS,
    },
    "webhook rate limit per client and route",
  );
  const context: AppContext = {
    env: config,
    pool,
    prisma,
    records,
    rateLimit: rateLimiter.check,
    now: clockOf(config),
    databaseUrl,
    embedded,
    onShutdown: [],
    listenUrl: null,
  };
  context.onShutdown.push(async () => {
    await records.close();
    await prisma.$disconnect();
    await pool.end();
    await embedded?.stop();
    await flushSentry(2000);
    await flushLogs();
  });
  await startAuth(context);
  context.onShutdown.push(rateLimiter.close);
  const retention = startRetentionSchedule(pool, {
    retentionDays: config.RETENTION_DAYS,
    intervalMinutes: config.RETENTION_INTERVAL_MINUTES,
  });
  context.onShutdown.push(retention.stop);
  if (!globalThis.__webhookInboxServerStopsApp) stopOnSignals(config);
  return context;
}

/**
 * Stops the app on SIGTERM or SIGINT when server/index.ts does not, as under
 * remix-serve, which then only closes its HTTP server. Without it the
 * buffered request records would be lost and the pool's idle connections
 * would keep the process alive for 30 s. Webhook requests in flight get up to
 * SHUTDOWN_TIMEOUT_MS to finish first, and later ones get 503.
 *
 * NOTE: remix-serve keeps its open connections, so a client that holds an
 * upload open keeps the process alive until it disconnects.
 */
function stopOnSignals(config: Env): void {
  const stop = (signal: NodeJS.Signals): void => {
    if (globalThis.__webhookInboxStopping) return;
    globalThis.__webhookInboxStopping = true;
    logger.info({ signal }, "stopping the app");
    void whenIdle(config.SHUTDOWN_TIMEOUT_MS)
      .then((idle) => {
        if (!idle) {
          logger.warn(
            { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
            "webhook requests still in flight at the shutdown timeout",
          );
        }
        return stopApp();
      })
      .then(() => logger.info({ signal }, "app stopped"));
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // A listener replaces Node's default of exiting at once, so one is added
    // only where the server already handles the signal, as remix-serve does
    // by closing its HTTP server.
    if (process.listenerCount(signal) > 0) process.once(signal, stop);
  }
}

/**
 * Applies migrations, failing fast with a clear message when the database
 * cannot be reached. The server does not start without its schema, so a
 * process manager (systemd, Docker, Kubernetes) restarts it until the
 * database is up. Once running, it rides out outages on its own.
 */
async function applyMigrationsAtBoot(databaseUrl: string): Promise<string[]> {
  try {
    return await applyMigrations(databaseUrl);
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    const reason =
      error instanceof Error
        ? error.message || (error as { code?: string }).code
        : String(error);
    throw new Error(
      `Cannot reach the database at ${redactUrl(databaseUrl)} (${reason}). ` +
        "Start PostgreSQL or fix DATABASE_URL; the server exits so that a " +
        "process manager can restart it once the database is up.",
      { cause: error },
    );
  }
}

/**
 * Starts the database, applies migrations and builds the shared context,
 * once per process. Later calls return the same context.
 */
export function getApp(): Promise<AppContext> {
  if (globalThis.__webhookInboxStopping) {
    return Promise.reject(new ShuttingDownError());
  }
  globalThis.__webhookInboxApp ??= start(env()).catch((error: unknown) => {
    globalThis.__webhookInboxApp = undefined;
    throw error;
  });
  return globalThis.__webhookInboxApp;
}

/**
 * Runs the shutdown hooks in reverse order of registration. server/index.ts
 * calls it after its HTTP server closed, and stopOnSignals under any other
 * server.
 */
export async function stopApp(): Promise<void> {
  const pending = globalThis.__webhookInboxApp;
  if (!pending) return;
  globalThis.__webhookInboxApp = undefined;
  const app = await pending;
  for (const hook of [...app.onShutdown].reverse()) {
    try {
      await hook();
    } catch (error) {
      logger.error({ err: error }, "shutdown step failed");
    }
  }
}
