import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import { createRequestListener } from "@remix-run/node-fetch-server";
import sirv from "sirv";

/**
 * The production server: plain node:http with Node's own fetch classes.
 * Webhook paths go straight to the ingest pipeline; everything else is
 * static assets or the Remix app. Remix's own remix-serve also works with
 * the same build, at a lower request rate.
 */

interface EntryModule {
  getApp: () => Promise<{
    env: {
      PORT: number;
      HOST: string;
      SHUTDOWN_TIMEOUT_MS: number;
      SENTRY_DSN?: string;
      SENTRY_ENVIRONMENT?: string;
    };
    listenUrl: string | null;
  }>;
  stopApp: () => Promise<void>;
  handleNodeWebhook: (
    request: IncomingMessage,
    response: ServerResponse,
  ) => Promise<void>;
  applySecurityPolicy: (
    request: IncomingMessage,
    response: ServerResponse,
  ) => boolean;
  handleHealthRequest: (
    request: IncomingMessage,
    response: ServerResponse,
  ) => boolean;
  flushLogs?: () => void;
}

const buildPath = path.resolve(
  process.env.BUILD_DIR ?? "build",
  "server/index.js",
);
const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;
const entry = build.entry.module as unknown as EntryModule;

// This server stops the app itself once its HTTP server has closed (see
// shutdown below), so the app registers no signal handlers of its own.
globalThis.__webhookInboxServerStopsApp = true;

let app: Awaited<ReturnType<EntryModule["getApp"]>>;
try {
  app = await entry.getApp();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const remixHandler = createRequestHandler(
  build,
  process.env.NODE_ENV ?? "production",
);
const remixListener = createRequestListener(
  (request: Request, client: { address: string }) =>
    remixHandler(request, { clientAddress: client.address }),
);
const assets = sirv(path.resolve(path.dirname(buildPath), "../client"), {
  setHeaders(response, pathname) {
    if (pathname.startsWith("/assets/")) {
      response.setHeader(
        "Cache-Control",
        "public, max-age=31536000, immutable",
      );
    }
  },
});

const WEBHOOK_PREFIX = "/api/webhooks/";

let stopping = false;

const server = createServer((request, response) => {
  // Security headers for every response, and 403 for cross-site POSTs.
  if (!entry.applySecurityPolicy(request, response)) return;
  if (stopping) {
    // A request that arrives on a kept-alive connection after SIGTERM is
    // turned away, so the client retries elsewhere instead of getting a
    // response from a process that is about to close its database pool.
    response.writeHead(503, {
      "content-type": "application/json; charset=utf-8",
      "retry-after": "5",
      connection: "close",
    });
    response.end(
      JSON.stringify({
        error: "unavailable",
        message: "The server is shutting down; retry after 5 seconds.",
      }),
    );
    return;
  }
  if (entry.handleHealthRequest(request, response)) return;
  if (request.url?.startsWith(WEBHOOK_PREFIX)) {
    void entry.handleNodeWebhook(request, response);
    return;
  }
  assets(request, response, () => {
    void remixListener(request, response);
  });
});
server.keepAliveTimeout = 65_000;

server.listen(app.env.PORT, app.env.HOST, () => {
  const address = server.address();
  const port =
    typeof address === "object" && address ? address.port : app.env.PORT;
  app.listenUrl = loopbackUrl(app.env.HOST, port);
  console.log(
    JSON.stringify({
      level: 30,
      time: Date.now(),
      msg: "listening",
      url: publicListenUrl(app.env.HOST, port),
    }),
  );
});

/** Returns the URL to print for HOST and a port. */
function publicListenUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "::") return `http://localhost:${port}`;
  return host.includes(":")
    ? `http://[${host}]:${port}`
    : `http://${host}:${port}`;
}

/** Returns the URL this process reaches itself at, for HOST and a port. */
function loopbackUrl(host: string, port: number): string {
  if (host === "0.0.0.0") return `http://127.0.0.1:${port}`;
  if (host === "::") return `http://[::1]:${port}`;
  return host.includes(":")
    ? `http://[${host}]:${port}`
    : `http://${host}:${port}`;
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(
    JSON.stringify({
      level: 30,
      time: Date.now(),
      msg: "shutting down",
      signal,
    }),
  );
  const timer = setTimeout(() => {
    console.error(
      JSON.stringify({
        level: 50,
        time: Date.now(),
        msg: "shutdown timed out; closing open connections",
      }),
    );
    server.closeAllConnections();
  }, app.env.SHUTDOWN_TIMEOUT_MS);
  // close() stops accepting and resolves once in-flight requests are done.
  // Keep-alive sockets become idle as their last response ends, so they are
  // closed on a short interval, not only once, or they would hold it open.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  await closed;
  clearInterval(idleSweep);
  clearTimeout(timer);
  await entry.stopApp();
  console.log(
    JSON.stringify({ level: 30, time: Date.now(), msg: "stopped", signal }),
  );
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
