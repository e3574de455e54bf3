import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { waitFor } from "../support/server";

// The same build also runs under Remix's own server, where webhooks reach
// the pipeline through the resource route app/routes/api.webhooks.$.ts.
const ROOT = path.resolve(import.meta.dirname, "../..");
const ENDPOINT = "/api/webhooks/test-multichannel";

let db: TestDatabase;
let child: ChildProcess;
let url: string;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return address.port;
}

/** Starts remix-serve on the built app and resolves once it listens. */
async function startRemixServe(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const started = spawn(
    process.execPath,
    [
      "node_modules/@remix-run/serve/dist/cli.js",
      path.join(process.env.BUILD_DIR ?? "build", "server/index.js"),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: db.url,
        ...env,
      } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const listening = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("remix-serve did not start")),
      30_000,
    );
    createInterface({ input: started.stdout! }).on("line", (line) => {
      if (line.includes("[remix-serve]")) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
  });
  return { child: started, url: listening };
}

/** Sends SIGTERM and resolves with the exit code, or null after `ms`. */
async function stopWithin(
  serverProcess: ChildProcess,
  ms: number,
): Promise<number | null> {
  if (serverProcess.exitCode !== null) return serverProcess.exitCode;
  const exited = new Promise<number | null>((resolve) =>
    serverProcess.once("exit", (code) => resolve(code)),
  );
  serverProcess.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  const code = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (code === null && serverProcess.exitCode === null)
    serverProcess.kill("SIGKILL");
  return code;
}

beforeAll(async () => {
  db = await createTestDatabase("remix_serve");
  ({ child, url } = await startRemixServe({ REQUEST_LOG_FLUSH_MS: "20" }));
});

afterAll(async () => {
  if (child) await stopWithin(child, 5000);
  await db?.drop();
});

function post(body: unknown, requestId = "req-remix-serve", target = url) {
  return fetch(target + ENDPOINT, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-request-id": requestId,
    },
    body: JSON.stringify(body),
  });
}

test("remix-serve stores then rejects a duplicate", async () => {
  const payload = {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550101",
    text: "via remix",
  };
  const first = await post(payload);
  expect(first.status).toBe(201);
  const { id } = await first.json();
  const second = await post(payload);
  expect(second.status).toBe(409);
  expect((await second.json()).duplicateOf).toBe(id);
  const rows = await waitFor(async () => {
    const result = await db.pool.query(
      "SELECT outcome FROM request_record WHERE request_id = 'req-remix-serve' ORDER BY id",
    );
    return result.rows.length === 2 ? result.rows : undefined;
  });
  expect(rows.map((row) => row.outcome)).toEqual(["accepted", "duplicate"]);
});

test("remix-serve answers GET, 405 and 404", async () => {
  expect((await fetch(url + ENDPOINT)).status).toBe(200);
  const put = await fetch(url + ENDPOINT, { method: "PUT" });
  expect(put.status).toBe(405);
  expect(put.headers.get("allow")).toBe("GET, POST");
  const missing = await fetch(`${url}/api/webhooks/nope/sms`, {
    method: "POST",
  });
  expect(missing.status).toBe(404);
});

test("remix-serve SIGTERM flushes records and exits", async () => {
  // Records are flushed only at shutdown, so the row proves the flush.
  const server = await startRemixServe({
    REQUEST_LOG_FLUSH_MS: "60000",
    SHUTDOWN_TIMEOUT_MS: "5000",
  });
  const requestId = `req-sigterm-${Date.now()}`;
  let id: string;
  try {
    const response = await post(
      {
        channel: "sms",
        from: "+14155550100",
        to: "+14155550102",
        text: "before shutdown",
      },
      requestId,
      server.url,
    );
    expect(response.status).toBe(201);
    ({ id } = await response.json());
  } catch (error) {
    // A failed check must not leave the server running after the tests.
    await stopWithin(server.child, 10_000);
    throw error;
  }

  // Without the app's own handler the pool's idle connections would keep
  // the process alive for 30 s.
  expect(await stopWithin(server.child, 10_000)).toBe(0);
  const { rows } = await db.pool.query(
    "SELECT outcome, message_id FROM request_record WHERE request_id = $1",
    [requestId],
  );
  expect(rows).toEqual([{ outcome: "accepted", message_id: id }]);
});
