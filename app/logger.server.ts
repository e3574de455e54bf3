import { pino } from "pino";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

// The logger exists before the environment is validated, so an invalid
// LOG_LEVEL falls back to info here and the validation then reports it.
const level = LEVELS.includes(process.env.LOG_LEVEL ?? "")
  ? (process.env.LOG_LEVEL as string)
  : "info";

/**
 * The process-wide structured logger. pino writes JSON lines to stdout
 * without blocking the event loop on each call.
 */
export const logger = pino(
  {
    level,
    // The pid identifies the cluster worker that wrote a line.
    base: { service: "webhook-inbox", pid: process.pid },
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        "headers.authorization",
        "headers.cookie",
      ],
      censor: "[redacted]",
    },
  },
  // Asynchronous writes keep a burst of request logs off the event loop;
  // flushLogs() drains the buffer at shutdown.
  pino.destination({ dest: 1, sync: false }),
);

/** Writes out the log lines still buffered; resolves once they are written. */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => {
    logger.flush(() => resolve());
  });
}
