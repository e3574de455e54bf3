import { createHash, randomBytes } from "node:crypto";
import {
  createCookieSessionStorage,
  redirect,
  type Session,
  type SessionStorage,
} from "@remix-run/node";
import type { Env } from "~/env.server";

/**
 * Login sessions in a signed cookie. The cookie stores only the user id and
 * a fingerprint of the password hash. The guard re-reads the user on every
 * request, so a role change or deletion applies at once, and a password
 * reset ends the user's other sessions. The signature (HMAC-SHA256 with
 * SESSION_SECRET) stops a client from editing the cookie, but the content is
 * readable, so it contains nothing secret.
 *
 * NOTE: logging out clears the cookie in the browser, but a copy of the
 * cookie stays valid until it expires or the password changes, because no
 * server-side session list exists to revoke it from.
 */
export const SESSION_COOKIE_NAME = "inbox_session";

interface SessionData {
  userId: string;
  passwordStamp: string;
}

type SessionConfig = Pick<
  Env,
  | "SESSION_SECRET"
  | "SESSION_MAX_AGE_HOURS"
  | "SESSION_COOKIE_SECURE"
  | "TRUST_PROXY"
>;

let generatedSecret: string | undefined;

/**
 * Returns SESSION_SECRET, or a random secret kept for the life of the
 * process when it is unset. With a generated secret every restart signs
 * users out, and instances behind one load balancer reject each other's
 * cookies.
 */
export function sessionSecret(config: SessionConfig): {
  secret: string;
  generated: boolean;
} {
  if (config.SESSION_SECRET !== undefined) {
    return { secret: config.SESSION_SECRET, generated: false };
  }
  generatedSecret ??= randomBytes(32).toString("base64url");
  return { secret: generatedSecret, generated: true };
}

let storage: SessionStorage<SessionData> | undefined;

function sessionStorage(config: SessionConfig): SessionStorage<SessionData> {
  storage ??= createCookieSessionStorage<SessionData>({
    cookie: {
      name: SESSION_COOKIE_NAME,
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      maxAge: Math.round(config.SESSION_MAX_AGE_HOURS * 3600),
      secrets: [sessionSecret(config).secret],
      // Overridden per response by isSecureRequest(), from the request's scheme.
      secure: false,
    },
  });
  return storage;
}

/**
 * Tells whether the browser reached us over https: the request URL's scheme, or
 * X-Forwarded-Proto when TRUST_PROXY is on. SESSION_COOKIE_SECURE overrides
 * both.
 */
export function isSecureRequest(
  request: Request,
  config: SessionConfig,
): boolean {
  if (config.SESSION_COOKIE_SECURE !== undefined) {
    return config.SESSION_COOKIE_SECURE;
  }
  if (new URL(request.url).protocol === "https:") return true;
  if (!config.TRUST_PROXY) return false;
  const forwarded = request.headers.get("x-forwarded-proto");
  return forwarded?.split(",")[0].trim().toLowerCase() === "https";
}

/** Computes a short fingerprint of a password hash, which changes with it. */
export function passwordStamp(passwordHash: string): string {
  return createHash("sha256").update(passwordHash).digest("hex").slice(0, 16);
}

export function readSession(
  request: Request,
  config: SessionConfig,
): Promise<Session<SessionData>> {
  return sessionStorage(config).getSession(request.headers.get("cookie"));
}

/** Starts a session for the user and redirects to `redirectTo`. */
export async function createUserSession(
  request: Request,
  config: SessionConfig,
  user: { id: string; passwordHash: string },
  redirectTo: string,
): Promise<Response> {
  const storage = sessionStorage(config);
  const session = await storage.getSession();
  session.set("userId", user.id);
  session.set("passwordStamp", passwordStamp(user.passwordHash));
  return redirect(redirectTo, {
    headers: {
      "Set-Cookie": await storage.commitSession(session, {
        secure: isSecureRequest(request, config),
      }),
    },
  });
}

/** Ends the session and redirects to `redirectTo`. */
export async function destroyUserSession(
  request: Request,
  config: SessionConfig,
  redirectTo: string,
): Promise<Response> {
  const storage = sessionStorage(config);
  const session = await readSession(request, config);
  return redirect(redirectTo, {
    headers: {
      "Set-Cookie": await storage.destroySession(session, {
        secure: isSecureRequest(request, config),
      }),
    },
  });
}
