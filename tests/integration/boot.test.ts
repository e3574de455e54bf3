import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runServerToExit, startServer } from "../support/server";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "inbox-embedded-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const SMS = {
  channel: "sms",
  from: "+14155550100",
  to: "+14155550101",
  text: "kept across restarts",
  messageId: "restart-1",
};

function post(url: string) {
  return fetch(`${url}/api/webhooks/test-multichannel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(SMS),
  });
}

test("embedded database keeps data across a restart", async () => {
  const first = await startServer({ DATA_DIR: dataDir, DATABASE_URL: "" });
  let originalId: string;
  try {
    expect(first.output.join("\n")).toContain('"database":"embedded"');
    const response = await post(first.url);
    expect(response.status).toBe(201);
    originalId = (await response.json()).id;
  } finally {
    expect(await first.stop()).toBe(0);
  }
  // The request record of that POST is written at shutdown at the latest.
  expect(first.output.join("\n")).not.toContain("request record");

  const second = await startServer({ DATA_DIR: dataDir, DATABASE_URL: "" });
  try {
    const response = await post(second.url);
    expect(response.status).toBe(409);
    const body = await response.json();
    expect(body.duplicateOf).toBe(originalId);
    expect(second.output.join("\n")).toContain("database schema is up to date");
  } finally {
    await second.stop();
  }
});

test("invalid env stops the server naming the variable", async () => {
  const { code, output } = await runServerToExit({
    PORT: "not-a-port",
    DATABASE_URL: "mysql://localhost/x",
  });
  expect(code).toBe(1);
  expect(output).toMatch(/PORT: /);
  expect(output).toMatch(
    /DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//,
  );
});

test("invalid LOG_LEVEL stops the server naming it", async () => {
  const { code, output } = await runServerToExit({
    LOG_LEVEL: "loud",
    DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none",
  });
  expect(code).toBe(1);
  expect(output).toMatch(/LOG_LEVEL: /);
  expect(output).not.toMatch(/default level:loud/);
});
