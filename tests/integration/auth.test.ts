import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { createTestUser, logInWithFetch } from "../support/auth";
import {
  runServerToExit,
  startServer,
  type RunningServer,
} from "../support/server";

const ADMIN_EMAIL = "First.Admin@Example.com";
const ADMIN_PASSWORD = "first-admin-password";

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("auth");
  server = await startServer({
    DATABASE_URL: db.url,
    SESSION_SECRET: "s".repeat(40),
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

function get(path: string, cookie = "", headers: Record<string, string> = {}) {
  return fetch(server.url + path, {
    redirect: "manual",
    headers: { cookie, ...headers },
  });
}

function postForm(
  path: string,
  fields: Record<string, string>,
  options: { cookie?: string; origin?: string | null } = {},
) {
  const headers: Record<string, string> = { cookie: options.cookie ?? "" };
  const origin = options.origin === undefined ? server.url : options.origin;
  if (origin !== null) headers.origin = origin;
  return fetch(server.url + path, {
    method: "POST",
    redirect: "manual",
    headers,
    body: new URLSearchParams(fields),
  });
}

async function userRow(id: string) {
  const { rows } = await db.pool.query(
    "SELECT email, role, password_hash FROM app_user WHERE id = $1",
    [id],
  );
  return rows[0] as
    { email: string; role: string; password_hash: string } | undefined;
}

test("ADMIN_EMAIL creates the first admin", async () => {
  const { rows } = await db.pool.query(
    "SELECT email, role, password_hash FROM app_user WHERE role = 'admin'",
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].email).toBe("first.admin@example.com");
  expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
  expect(server.output.join("\n")).toContain(
    "created the first admin from ADMIN_EMAIL",
  );
});

test("ADMIN_EMAIL is ignored once an admin exists", async () => {
  const restarted = await startServer({
    DATABASE_URL: db.url,
    ADMIN_EMAIL: "second.admin@example.test",
    ADMIN_PASSWORD: "second-admin-password",
  });
  await restarted.stop();
  const { rows } = await db.pool.query(
    "SELECT email FROM app_user WHERE email = 'second.admin@example.test'",
  );
  expect(rows).toHaveLength(0);
  expect(restarted.output.join("\n")).not.toContain("created the first admin");
});

test("ADMIN_EMAIL without ADMIN_PASSWORD stops boot", async () => {
  const result = await runServerToExit({
    DATABASE_URL: db.url,
    ADMIN_EMAIL: "lonely@example.test",
  });
  expect(result.code).toBe(1);
  expect(result.output).toContain("ADMIN_PASSWORD: missing");
});

test("bootstrap admin can log in", async () => {
  const cookie = await logInWithFetch(server, {
    email: "first.admin@example.com",
    password: ADMIN_PASSWORD,
  });
  const response = await get("/users", cookie);
  expect(response.status).toBe(200);
});

test("login sets a signed HttpOnly Lax cookie", async () => {
  const user = await createTestUser(db, "viewer");
  const response = await postForm("/login", {
    email: user.email,
    password: user.password,
  });
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/");
  const setCookie = response.headers.get("set-cookie") ?? "";
  expect(setCookie).toMatch(/^inbox_session=[^;]+\.[^;]+;/);
  expect(setCookie).toContain("HttpOnly");
  expect(setCookie).toContain("SameSite=Lax");
  expect(setCookie).toContain("Path=/");
  expect(setCookie).toContain("Max-Age=43200");
  expect(setCookie).not.toContain("Secure");
});

test("login over https proxy sets Secure", async () => {
  const user = await createTestUser(db, "viewer");
  const plain = await postForm("/login", {
    email: user.email,
    password: user.password,
  });
  expect(plain.headers.get("set-cookie")).not.toContain("Secure");
  const https = await startServer({
    DATABASE_URL: db.url,
    TRUST_PROXY: "true",
  });
  try {
    const response = await fetch(`${https.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        origin: "https://inbox.example.com",
        "x-forwarded-host": "inbox.example.com",
        "x-forwarded-proto": "https",
      },
      body: new URLSearchParams({
        email: user.email,
        password: user.password,
      }),
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("set-cookie")).toContain("Secure");
  } finally {
    await https.stop();
  }
});

test("session cookie with a changed value is ignored", async () => {
  const user = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, user);
  const [name, value] = cookie.split("=");
  const [payload, signature] = decodeURIComponent(value).split(".");
  const forged = Buffer.from(
    JSON.stringify({ userId: user.id, passwordStamp: "0".repeat(16) }),
  ).toString("base64");
  const tampered = `${name}=${encodeURIComponent(`${forged}.${signature}`)}`;
  expect(payload).not.toBe(forged);
  const response = await get("/users", tampered);
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/login?redirectTo=%2Fusers");
});

test("wrong password shows an inline error", async () => {
  const user = await createTestUser(db, "viewer");
  const response = await postForm("/login", {
    email: user.email,
    password: "not-the-password",
  });
  expect(response.status).toBe(401);
  expect(response.headers.get("set-cookie")).toBeNull();
  const html = await response.text();
  expect(html).toContain("The email or password is wrong.");
  expect(html).toContain(`value="${user.email}"`);
});

test("unknown email gets the same error", async () => {
  const response = await postForm("/login", {
    email: "nobody@example.test",
    password: "whatever-password",
  });
  expect(response.status).toBe(401);
  expect(await response.text()).toContain("The email or password is wrong.");
});

test("invalid email names the field", async () => {
  const response = await postForm("/login", {
    email: "not-an-email",
    password: "",
  });
  expect(response.status).toBe(400);
  const html = await response.text();
  expect(html).toContain("Enter a valid email address");
  expect(html).toContain("Enter your password.");
});

test("login email is case-insensitive", async () => {
  const user = await createTestUser(db, "viewer");
  const cookie = await logInWithFetch(server, {
    email: user.email.toUpperCase(),
    password: user.password,
  });
  expect(cookie).toMatch(/^inbox_session=/);
});

test("login follows a same-site redirectTo", async () => {
  const user = await createTestUser(db, "viewer");
  const response = await postForm("/login", {
    email: user.email,
    password: user.password,
    redirectTo: "/messages?q=refund",
  });
  expect(response.headers.get("location")).toBe("/messages?q=refund");
});

test("login ignores an off-site redirectTo", async () => {
  const user = await createTestUser(db, "viewer");
  const response = await postForm("/login", {
    email: user.email,
    password: user.password,
    redirectTo: "//evil.example/phish",
  });
  expect(response.headers.get("location")).toBe("/");
});

test("signed-in visit to /login redirects", async () => {
  const user = await createTestUser(db, "viewer");
  const cookie = await logInWithFetch(server, user);
  const response = await get("/login?redirectTo=%2Flatency", cookie);
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/latency");
});

test("visitor GET redirects to login", async () => {
  const response = await get("/users?page=2");
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe(
    "/login?redirectTo=%2Fusers%3Fpage%3D2",
  );
});

test("visitor JSON GET gets 401", async () => {
  const response = await get("/users", "", { accept: "application/json" });
  expect(response.status).toBe(401);
});

test("visitor POST gets 401", async () => {
  const response = await postForm("/users", { intent: "delete" });
  expect(response.status).toBe(401);
  expect(await response.text()).toContain("Sign in at /login");
});

test("viewer gets 403 naming the role", async () => {
  const user = await createTestUser(db, "viewer");
  const cookie = await logInWithFetch(server, user);
  const response = await get("/users", cookie);
  expect(response.status).toBe(403);
  const html = await response.text();
  expect(html).toContain("This needs the admin role");
  expect(html).toContain("has the viewer role");
});

test("logout clears the cookie", async () => {
  const user = await createTestUser(db, "viewer");
  const cookie = await logInWithFetch(server, user);
  const response = await postForm("/logout", {}, { cookie });
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/login");
  const setCookie = response.headers.get("set-cookie") ?? "";
  expect(setCookie).toMatch(/^inbox_session=;/);
  expect(setCookie).toContain("Expires=Thu, 01 Jan 1970");
});

test("GET /logout does not log out", async () => {
  const response = await get("/logout");
  expect(response.status).toBe(302);
  expect(response.headers.get("set-cookie")).toBeNull();
});

test("role change applies at once", async () => {
  const user = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, user);
  expect((await get("/users", cookie)).status).toBe(200);
  await db.pool.query("UPDATE app_user SET role = 'viewer' WHERE id = $1", [
    user.id,
  ]);
  expect((await get("/users", cookie)).status).toBe(403);
  await db.pool.query("UPDATE app_user SET role = 'admin' WHERE id = $1", [
    user.id,
  ]);
  expect((await get("/users", cookie)).status).toBe(200);
});

test("deleted user loses the session", async () => {
  const user = await createTestUser(db, "viewer");
  const cookie = await logInWithFetch(server, user);
  expect((await get("/", cookie)).status).toBe(200);
  await db.pool.query("DELETE FROM app_user WHERE id = $1", [user.id]);
  const response = await get("/", cookie);
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/login");
});

test("password reset ends old sessions", async () => {
  const admin = await createTestUser(db, "admin");
  const adminCookie = await logInWithFetch(server, admin);
  const user = await createTestUser(db, "viewer");
  const userCookie = await logInWithFetch(server, user);
  const response = await postForm(
    "/users",
    { intent: "password", userId: user.id, password: "a-brand-new-password" },
    { cookie: adminCookie },
  );
  expect(response.status).toBe(200);
  expect((await get("/", userCookie)).status).toBe(302);
  const fresh = await logInWithFetch(server, {
    email: user.email,
    password: "a-brand-new-password",
  });
  expect((await get("/", fresh)).status).toBe(200);
});

test("users page creates a user", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const response = await postForm(
    "/users",
    {
      intent: "create",
      email: "New.Person@Example.test",
      role: "developer",
      password: "twelve-chars-ok",
    },
    { cookie },
  );
  expect(response.status).toBe(200);
  expect(await response.text()).toContain(
    "Created new.person@example.test with the developer role.",
  );
  const { rows } = await db.pool.query(
    "SELECT role FROM app_user WHERE email = 'new.person@example.test'",
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].role).toBe("developer");
});

test("users page rejects a duplicate email", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const response = await postForm(
    "/users",
    {
      intent: "create",
      email: admin.email.toUpperCase(),
      role: "viewer",
      password: "twelve-chars-ok",
    },
    { cookie },
  );
  expect(response.status).toBe(409);
  expect(await response.text()).toContain(
    `A user with the email ${admin.email} already exists.`,
  );
});

test("users page names invalid fields", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const response = await postForm(
    "/users",
    { intent: "create", email: "nope", role: "boss", password: "short" },
    { cookie },
  );
  expect(response.status).toBe(400);
  const html = await response.text();
  expect(html).toContain("Enter a valid email address");
  expect(html).toContain("Choose a role: viewer, developer, admin.");
  expect(html).toContain("Use at least 12 characters.");
});

test("users page changes a role", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const user = await createTestUser(db, "viewer");
  const response = await postForm(
    "/users",
    { intent: "role", userId: user.id, role: "developer" },
    { cookie },
  );
  expect(response.status).toBe(200);
  expect((await userRow(user.id))?.role).toBe("developer");
});

test("users page deletes a user", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const user = await createTestUser(db, "viewer");
  const response = await postForm(
    "/users",
    { intent: "delete", userId: user.id },
    { cookie },
  );
  expect(response.status).toBe(200);
  expect(await userRow(user.id)).toBeUndefined();
});

test("last admin cannot demote or delete self", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  await db.pool.query(
    "DELETE FROM app_user WHERE role = 'admin' AND id <> $1",
    [admin.id],
  );

  const demote = await postForm(
    "/users",
    { intent: "role", userId: admin.id, role: "viewer" },
    { cookie },
  );
  expect(demote.status).toBe(409);
  expect(await demote.text()).toContain("This is the last admin.");
  const remove = await postForm(
    "/users",
    { intent: "delete", userId: admin.id },
    { cookie },
  );
  expect(remove.status).toBe(409);
  expect((await userRow(admin.id))?.role).toBe("admin");

  const second = await createTestUser(db, "admin");
  const allowed = await postForm(
    "/users",
    { intent: "role", userId: admin.id, role: "viewer" },
    { cookie },
  );
  expect(allowed.status).toBe(200);
  expect((await userRow(admin.id))?.role).toBe("viewer");
  expect((await userRow(second.id))?.role).toBe("admin");
});

test("cross-site POST gets 403", async () => {
  const admin = await createTestUser(db, "admin");
  const cookie = await logInWithFetch(server, admin);
  const user = await createTestUser(db, "viewer");
  const response = await postForm(
    "/users",
    { intent: "delete", userId: user.id },
    { cookie, origin: "http://evil.example" },
  );
  expect(response.status).toBe(403);
  const body = await response.json();
  expect(body.error).toBe("cross_site_request");
  expect(body.message).toContain("http://evil.example");
  expect(await userRow(user.id)).toBeDefined();
});

test("POST without Origin or Referer gets 403", async () => {
  const response = await postForm("/logout", {}, { origin: null });
  expect(response.status).toBe(403);
  expect((await response.json()).error).toBe("cross_site_request");
});

test("same-origin POST by Referer passes", async () => {
  const response = await fetch(`${server.url}/logout`, {
    method: "POST",
    redirect: "manual",
    headers: { referer: `${server.url}/users` },
  });
  expect(response.status).toBe(302);
});

test("webhook POST without Origin passes", async () => {
  const response = await fetch(`${server.url}/api/webhooks/test-multichannel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      channel: "sms",
      from: "+14155550100",
      to: "+14155550111",
      text: "no origin needed",
    }),
  });
  expect(response.status).toBe(201);
});

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
  "x-frame-options": "DENY",
};

function expectSecurityHeaders(response: Response) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers.get(name), name).toBe(value);
  }
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
}

test("security headers on a page", async () => {
  const response = await get("/login");
  expect(response.status).toBe(200);
  expectSecurityHeaders(response);
});

test("security headers on an asset", async () => {
  const html = await (await get("/login")).text();
  const asset = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
  expect(asset).toBeDefined();
  const response = await get(asset!);
  expect(response.status).toBe(200);
  expectSecurityHeaders(response);
});

test("security headers on a webhook response", async () => {
  const response = await get("/api/webhooks/test-multichannel");
  expect(response.status).toBe(200);
  expectSecurityHeaders(response);
});

test("security headers on a redirect", async () => {
  const response = await get("/users");
  expect(response.status).toBe(302);
  expectSecurityHeaders(response);
});

test("CSP nonce matches the inline scripts", async () => {
  const response = await get("/login");
  const csp = response.headers.get("content-security-policy") ?? "";
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  const html = await response.text();
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map(
    (match) => match[1],
  );
  expect(scripts.length).toBeGreaterThan(1);
  for (const attributes of scripts) {
    expect(attributes).toContain(`nonce="${nonce}"`);
  }
});

test("CSP nonce differs per response", async () => {
  const first = (await get("/login")).headers.get("content-security-policy");
  const second = (await get("/login")).headers.get("content-security-policy");
  expect(first).not.toBe(second);
});
