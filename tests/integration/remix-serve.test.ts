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

beforeAll(async () => {
  db = await createTestDatabase("remix_serve");
  const port = await freePort();
  child = spawn(
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
        REQUEST_LOG_FLUSH_MS: "20",
      } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("remix-serve did not start")),
      30_000,
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes("[remix-serve]")) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // NOTE: under remix-serve nothing stops the app on SIGTERM. Its pool
    // keeps idle connections for 30 s, and once the database below is
    // dropped the request-record writer retries forever, so the process
    // would outlive the test run. It is killed after a grace period.
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  }
  await db?.drop();
});

function post(body: unknown) {
  return fetch(url + ENDPOINT, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-request-id": "req-remix-serve",
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
