import type pg from "pg";
import { logger } from "~/logger.server";

/** Rows deleted per DELETE statement, so each one holds its locks briefly. */
export const RETENTION_BATCH_SIZE = 5000;

/** Delay from boot to the first scheduled purge, off the startup path. */
export const RETENTION_FIRST_RUN_DELAY_MS = 5000;

/**
 * The tables retention purges and the timestamp column each one ages by.
 * Deletes go by ctid, the physical row address, because not every table has
 * a single-column key (request_stats_minute is keyed by bucket and channel).
 */
const RETAINED_TABLES = [
  { table: "message", column: "received_at" },
  { table: "request_record", column: "received_at" },
  { table: "status_event", column: "received_at" },
  { table: "request_stats_minute", column: "bucket" },
] as const;

export type RetainedTable = (typeof RETAINED_TABLES)[number]["table"];

export interface PurgeResult {
  cutoff: Date;
  /** Rows deleted per table. */
  deleted: Record<RetainedTable, number>;
  /** DELETE statements run, over all tables. */
  statements: number;
}

export interface PurgeOptions {
  retentionDays: number;
  now?: Date;
  batchSize?: number;
  /** Checked between batches; returning true ends the purge early. */
  shouldStop?: () => boolean;
}

/**
 * Deletes every row older than `retentionDays` from message, request_record,
 * status_event and request_stats_minute, `batchSize` rows per statement,
 * looping until a statement deletes fewer than a full batch. Each statement
 * commits on its own, so an interrupted purge keeps what it deleted and the
 * next run continues.
 */
export async function purgeExpired(
  pool: pg.Pool,
  options: PurgeOptions,
): Promise<PurgeResult> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const result: PurgeResult = {
    cutoff,
    deleted: {
      message: 0,
      request_record: 0,
      status_event: 0,
      request_stats_minute: 0,
    },
    statements: 0,
  };
  for (const { table, column } of RETAINED_TABLES) {
    // Table and column names come from the constant above, never from input.
    const sql = `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT $2))`;
    for (;;) {
      if (options.shouldStop?.()) return result;
      const { rowCount } = await pool.query(sql, [cutoff, batchSize]);
      result.statements++;
      result.deleted[table] += rowCount ?? 0;
      if ((rowCount ?? 0) < batchSize) break;
    }
  }
  return result;
}

/** A running retention schedule. */
export interface RetentionSchedule {
  /** Stops the timer and waits for a purge in progress to end its batch. */
  stop: () => Promise<void>;
}

/**
 * Runs purgeExpired RETENTION_FIRST_RUN_DELAY_MS after boot and then every
 * `intervalMinutes`. The timers are unref'd so they never keep the process
 * alive, runs never overlap, and a failed run is logged and retried at the
 * next interval.
 */
export function startRetentionSchedule(
  pool: pg.Pool,
  options: {
    retentionDays: number;
    intervalMinutes: number;
    firstRunDelayMs?: number;
  },
): RetentionSchedule {
  let stopped = false;
  let running: Promise<void> | undefined;

  const run = () => {
    if (running || stopped) return;
    running = purgeExpired(pool, {
      retentionDays: options.retentionDays,
      shouldStop: () => stopped,
    })
      .then((result) => {
        logger.info(
          {
            cutoff: result.cutoff.toISOString(),
            deleted: result.deleted,
            statements: result.statements,
          },
          "retention purge finished",
        );
      })
      .catch((error: unknown) => {
        logger.error(
          { err: error, retentionDays: options.retentionDays },
          "retention purge failed; retrying at the next interval",
        );
      })
      .finally(() => {
        running = undefined;
      });
  };

  const first = setTimeout(
    run,
    options.firstRunDelayMs ?? RETENTION_FIRST_RUN_DELAY_MS,
  );
  first.unref();
  const interval = setInterval(run, options.intervalMinutes * 60_000);
  interval.unref();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(interval);
      await running;
    },
  };
}
