import { randomBytes } from "node:crypto";
import type { Page } from "@playwright/test";
import { hashPassword } from "../../app/auth/password.server";
import type { Role } from "../../app/auth/roles";
import type { TestDatabase } from "./database";
import type { RunningServer } from "./server";

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
}

/** Inserts a user with a random email and password straight into `db`. */
export async function createTestUser(
  db: TestDatabase,
  role: Role,
): Promise<TestUser> {
  const email = `${role}-${randomBytes(6).toString("hex")}@example.test`;
  const password = randomBytes(18).toString("base64url");
  const { rows } = await db.pool.query<{ id: string }>(
    "INSERT INTO app_user (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id",
    [email, await hashPassword(password), role],
  );
  return { id: rows[0].id, email, password, role };
}

/**
 * Posts the login form with fetch and returns the Cookie header value of
 * the new session. Throws when the login does not redirect with a cookie.
 */
export async function logInWithFetch(
  server: RunningServer,
  user: Pick<TestUser, "email" | "password">,
): Promise<string> {
  const response = await fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { Origin: server.url },
    body: new URLSearchParams({ email: user.email, password: user.password }),
  });
  const setCookie = response.headers.get("set-cookie");
  if (response.status !== 302 || !setCookie) {
    throw new Error(
      `login as ${user.email} failed with ${response.status}: ${await response.text()}`,
    );
  }
  return setCookie.split(";")[0];
}

/**
 * Signs `page` in to the dashboard as a new user with `role`, through the
 * login form. Returns the user.
 */
export async function signIn(
  page: Page,
  server: RunningServer,
  db: TestDatabase,
  role: Role,
): Promise<TestUser> {
  const user = await createTestUser(db, role);
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/login");
  return user;
}

/**
 * Returns a Cookie header value for a new user with `role`, for fetch calls
 * to dashboard routes. POST requests also need an Origin header naming
 * `server.url`, or the cross-site check rejects them with 403.
 */
export async function sessionCookie(
  server: RunningServer,
  db: TestDatabase,
  role: Role,
): Promise<string> {
  return logInWithFetch(server, await createTestUser(db, role));
}
