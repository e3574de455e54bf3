import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import {
  startServer,
  waitFor,
  waitForRequestRecord,
  type RunningServer,
} from "../support/server";

const ENDPOINT = "/api/webhooks/test-multichannel";
const REDIS_URL = "redis://127.0.0.1:6379";

let db: TestDatabase;
const servers: RunningServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase("ratelimit");
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await db?.drop();
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({
    DATABASE_URL: db.url,
    RATE_LIMIT_POINTS: "3",
    RATE_LIMIT_DURATION_SECONDS: "60",
    ...env,
  });
  servers.push(server);
  return server;
}

function uniquePrefix(): string {
  return `test-rl-${randomBytes(6).toString("hex")}`;
}

let sequence = 0;

function post(server: RunningServer, headers: Record<string, string> = {}) {
  sequence++;
  return fetch(server.url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: `rate limit ${sequence}`,
      messageId: `rl-${Date.now()}-${sequence}`,
    }),
  });
}

test("memory limiter returns 429 after the points", async () => {
  const server = await start({});
  for (let i = 0; i < 3; i++) {
    const response = await post(server);
    expect(response.status, `request ${i + 1}`).toBe(201);
  }
  const before = await db.pool.query("SELECT count(*)::int AS n FROM message");
  const limited = await post(server, { "x-request-id": "rl-memory-429" });
  expect(limited.status).toBe(429);
  const retryAfter = Number(limited.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers.get("content-type")).toMatch(/application\/json/);
  const body = await limited.json();
  expect(body.error).toBe("rate_limited");
  expect(body.message).toMatch(/limit is 3 per 60 seconds/);
  expect(body.retryAfterSeconds).toBe(retryAfter);
  const after = await db.pool.query("SELECT count(*)::int AS n FROM message");
  expect(after.rows[0].n).toBe(before.rows[0].n);

  const record = await waitForRequestRecord(db.pool, "rl-memory-429");
  expect(record.status).toBe(429);
  expect(record.outcome).toBe("rate_limited");
  expect(record.error_message).toMatch(/Too many requests/);
  expect(record.client_ip).toBe("127.0.0.1");
});

test("memory limiter leaves GET unlimited", async () => {
  const server = await start({ RATE_LIMIT_POINTS: "1" });
  expect((await post(server)).status).toBe(201);
  expect((await post(server)).status).toBe(429);
  const described = await fetch(server.url + ENDPOINT);
  expect(described.status).toBe(200);
});

test("trusted proxy limits by X-Forwarded-For", async () => {
  const server = await start({ RATE_LIMIT_POINTS: "1", TRUST_PROXY: "true" });
  const first = await post(server, { "x-forwarded-for": "203.0.113.7" });
  expect(first.status).toBe(201);
  const second = await post(server, {
    "x-forwarded-for": "203.0.113.7, 10.0.0.1",
    "x-request-id": "rl-proxy-429",
  });
  expect(second.status).toBe(429);
  const other = await post(server, { "x-forwarded-for": "203.0.113.8" });
  expect(other.status).toBe(201);
  const record = await waitForRequestRecord(db.pool, "rl-proxy-429");
  expect(record.client_ip).toBe("203.0.113.7");
});

test("untrusted proxy ignores X-Forwarded-For", async () => {
  const server = await start({ RATE_LIMIT_POINTS: "1" });
  const first = await post(server, { "x-forwarded-for": "203.0.113.9" });
  expect(first.status).toBe(201);
  const second = await post(server, { "x-forwarded-for": "203.0.113.10" });
  expect(second.status).toBe(429);
});

test("redis limiter stores its counter in Redis", async () => {
  const prefix = uniquePrefix();
  const server = await start({
    REDIS_URL,
    RATE_LIMIT_KEY_PREFIX: prefix,
  });
  const startLine = await waitFor(async () =>
    server.output.find((line) => line.includes("webhook rate limit")),
  );
  expect(JSON.parse(startLine).store).toBe("redis");
  for (let i = 0; i < 3; i++) {
    expect((await post(server)).status, `request ${i + 1}`).toBe(201);
  }
  const limited = await post(server, { "x-request-id": "rl-redis-429" });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys).toEqual([`${prefix}:test-multichannel:127.0.0.1`]);
    expect(Number(await redis.get(keys[0]))).toBe(4);
    await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  const record = await waitForRequestRecord(db.pool, "rl-redis-429");
  expect(record.outcome).toBe("rate_limited");
});

test("redis limit is shared by two processes", async () => {
  const prefix = uniquePrefix();
  const env = { REDIS_URL, RATE_LIMIT_KEY_PREFIX: prefix };
  const [a, b] = await Promise.all([start(env), start(env)]);
  expect((await post(a)).status).toBe(201);
  expect((await post(b)).status).toBe(201);
  expect((await post(a)).status).toBe(201);
  const limitedB = await post(b);
  expect(limitedB.status).toBe(429);
  const limitedA = await post(a);
  expect(limitedA.status).toBe(429);
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
});

test("unreachable Redis falls back to memory", async () => {
  // Port 1 on the loopback address has no listener, so every Redis command
  // fails and the in-memory insurance limiter decides.
  const server = await start({
    REDIS_URL: "redis://127.0.0.1:1",
    RATE_LIMIT_KEY_PREFIX: uniquePrefix(),
  });
  for (let i = 0; i < 3; i++) {
    expect((await post(server)).status, `request ${i + 1}`).toBe(201);
  }
  const limited = await post(server);
  expect(limited.status).toBe(429);
  const logged = await waitFor(async () =>
    server.output.find((line) => line.includes("Redis is unreachable")),
  );
  expect(JSON.parse(logged).level).toBe(50);
});
