import type { Page } from "@playwright/test";
import type { Role } from "../../app/auth/guard.server";
import type { TestDatabase } from "./database";
import type { RunningServer } from "./server";

/**
 * Signs `page` in to the dashboard as a new user with `role`.
 *
 * TODO: the dashboard has no login yet, so this does nothing.
 */
export async function signIn(
  _page: Page,
  _server: RunningServer,
  _db: TestDatabase,
  _role: Role,
): Promise<void> {}

/**
 * Returns a Cookie header value for a new user with `role`, for fetch calls
 * to dashboard routes.
 *
 * TODO: the dashboard has no login yet, so this returns an empty string.
 */
export async function sessionCookie(
  _server: RunningServer,
  _db: TestDatabase,
  _role: Role,
): Promise<string> {
  return "";
}
