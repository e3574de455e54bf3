import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { createTestUser } from "../support/auth";
import { startServer, type RunningServer } from "../support/server";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const POINTS = 3;

let db: TestDatabase;
let redis: Redis;
const keyPrefix = `test-login-${randomBytes(6).toString("hex")}`;
const servers: RunningServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase("ratelimit");
  redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({
    DATABASE_URL: db.url,
    LOGIN_RATE_LIMIT_POINTS: String(POINTS),
    ...env,
  });
  servers.push(server);
  return server;
}

function login(
  server: RunningServer,
  email: string,
  password: string,
  forwardedFor?: string,
) {
  const headers: Record<string, string> = { origin: server.url };
  if (forwardedFor) headers["x-forwarded-for"] = forwardedFor;
  return fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers,
    body: new URLSearchParams({ email, password }),
  });
}

async function expectLimited(response: Response) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  expect(await response.text()).toContain("Too many login attempts.");
}

test("memory limit answers 429 after the points", async () => {
  const server = await start({});
  const user = await createTestUser(db, "viewer");
  for (let attempt = 0; attempt < POINTS; attempt++) {
    const response = await login(server, user.email, "wrong-password-1");
    expect(response.status, `attempt ${attempt + 1}`).toBe(401);
  }
  await expectLimited(await login(server, user.email, "wrong-password-1"));
  // The right password is rejected too while the limit lasts.
  await expectLimited(await login(server, user.email, user.password));
});

test("email limit spans client IPs", async () => {
  const server = await start({ TRUST_PROXY: "true" });
  const user = await createTestUser(db, "viewer");
  for (let attempt = 1; attempt <= POINTS; attempt++) {
    const response = await login(
      server,
      user.email.toUpperCase(),
      "wrong-password-2",
      `10.0.0.${attempt}`,
    );
    expect(response.status, `attempt ${attempt}`).toBe(401);
  }
  await expectLimited(
    await login(server, user.email, user.password, "10.0.0.99"),
  );
});

test("IP limit spans emails", async () => {
  const server = await start({ TRUST_PROXY: "true" });
  for (let attempt = 1; attempt <= POINTS; attempt++) {
    const response = await login(
      server,
      `nobody-${attempt}@example.test`,
      "wrong-password-3",
      "10.0.1.1",
    );
    expect(response.status, `attempt ${attempt}`).toBe(401);
  }
  const user = await createTestUser(db, "viewer");
  await expectLimited(
    await login(server, user.email, user.password, "10.0.1.1"),
  );
  const otherIp = await login(server, user.email, user.password, "10.0.1.2");
  expect(otherIp.status).toBe(302);
});

test("successful login does not count for the email", async () => {
  const server = await start({ LOGIN_RATE_LIMIT_POINTS: "5" });
  const user = await createTestUser(db, "viewer");
  await login(server, user.email, "wrong-password-3");
  await login(server, user.email, "wrong-password-3");
  const success = await login(server, user.email, user.password);
  expect(success.status).toBe(302);
  // Two IP points are left; the email count restarted at the success.
  expect((await login(server, user.email, "wrong")).status).toBe(401);
  expect((await login(server, user.email, "wrong")).status).toBe(401);
  await expectLimited(await login(server, user.email, "wrong"));
});

test("Redis limit is shared across servers", async () => {
  const env = { REDIS_URL, LOGIN_RATE_LIMIT_KEY_PREFIX: keyPrefix };
  const first = await start(env);
  const second = await start(env);
  const user = await createTestUser(db, "viewer");
  for (let attempt = 0; attempt < POINTS; attempt++) {
    const server = attempt % 2 === 0 ? first : second;
    const response = await login(server, user.email, "wrong-password-4");
    expect(response.status, `attempt ${attempt + 1}`).toBe(401);
  }
  await expectLimited(await login(second, user.email, "wrong-password-4"));
  await expectLimited(await login(first, user.email, "wrong-password-4"));
  const keys = await redis.keys(`${keyPrefix}*`);
  expect(keys).toContain(`${keyPrefix}:ip:127.0.0.1`);
  expect(keys).toContain(`${keyPrefix}:email:${user.email}`);
});
