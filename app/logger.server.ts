import { pino } from "pino";

/**
 * The process-wide structured logger. pino writes JSON lines to stdout
 * without blocking the event loop on each call.
 */
export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
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

export function flushLogs(): void {
  logger.flush();
}
