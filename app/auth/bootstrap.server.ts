import type { AppContext } from "~/boot.server";
import { EnvError } from "~/env.server";
import { logger } from "~/logger.server";
import {
  createLoginRateLimiter,
  type LoginRateLimiter,
} from "./login-rate-limit.server";
import { sessionSecret } from "./session.server";
import { ensureFirstAdmin } from "./users.server";

let loginRateLimiter: LoginRateLimiter | undefined;

/** Returns the login rate limiter that startAuth built. */
export function getLoginRateLimiter(): LoginRateLimiter {
  if (!loginRateLimiter) {
    throw new Error("startAuth() has not run; getApp() runs it at boot");
  }
  return loginRateLimiter;
}

/**
 * Prepares login at boot: warns when sessions use a generated secret,
 * creates the first admin from ADMIN_EMAIL and ADMIN_PASSWORD when the
 * database has no admin, and builds the login rate limiter.
 */
export async function startAuth(app: AppContext): Promise<void> {
  const config = app.env;
  if (sessionSecret(config).generated) {
    logger.warn(
      "SESSION_SECRET is not set, so sessions are signed with a random secret and every restart signs all users out; set SESSION_SECRET to a random string of at least 32 characters",
    );
  }

  const hasEmail = config.ADMIN_EMAIL !== undefined;
  const hasPassword = config.ADMIN_PASSWORD !== undefined;
  if (hasEmail !== hasPassword) {
    throw new EnvError([
      hasEmail
        ? "ADMIN_PASSWORD: missing; set it together with ADMIN_EMAIL to create the first admin"
        : "ADMIN_EMAIL: missing; set it together with ADMIN_PASSWORD to create the first admin",
    ]);
  }
  if (config.ADMIN_EMAIL !== undefined && config.ADMIN_PASSWORD !== undefined) {
    const admin = await ensureFirstAdmin(
      app.prisma,
      config.ADMIN_EMAIL,
      config.ADMIN_PASSWORD,
    );
    if (admin) {
      logger.info(
        { userId: admin.id, email: admin.email },
        "created the first admin from ADMIN_EMAIL",
      );
    }
  } else if (
    (await app.prisma.user.count({ where: { role: "admin" } })) === 0
  ) {
    logger.warn(
      "no admin user exists, so nobody can manage users; set ADMIN_EMAIL and ADMIN_PASSWORD, or stop the server and run: npm run user:create -- --email you@example.com --role admin",
    );
  }

  const limiter = await createLoginRateLimiter(config);
  loginRateLimiter = limiter;
  app.onShutdown.push(async () => {
    await limiter.close();
    if (loginRateLimiter === limiter) loginRateLimiter = undefined;
  });
}
