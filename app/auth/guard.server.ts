/**
 * Access checks for dashboard loaders and actions.
 *
 * Contract: every dashboard loader and action calls requireRole() first.
 * A request without a valid session gets a redirect to /login (GET) or a
 * 401 (other methods and JSON requests). A user whose role is too low gets
 * a 403. State-changing requests must also come from our own origin, as
 * origin.server.ts defines it. server/index.ts checks that for every path,
 * and requireRole checks it again for servers that do not run
 * server/index.ts.
 */
import { getApp } from "~/boot.server";
import { assertSameOrigin } from "~/security/origin.server";
import { loginPath } from "./redirect";
import { hasRole, ROLES, type Role } from "./roles";
import { passwordStamp, readSession } from "./session.server";
import { findSessionUser } from "./users.server";

export { ROLES, type Role };

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
}

const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The root loader and the route loader of one request receive the same
// Request object, so the user is read once per request.
const usersByRequest = new WeakMap<Request, Promise<SessionUser | null>>();

async function loadUser(request: Request): Promise<SessionUser | null> {
  const app = await getApp();
  const session = await readSession(request, app.env);
  const userId = session.get("userId");
  if (typeof userId !== "string" || !UUID_PATTERN.test(userId)) return null;
  const user = await findSessionUser(app.prisma, userId);
  if (!user) return null;
  if (passwordStamp(user.passwordHash) !== session.get("passwordStamp")) {
    return null;
  }
  return { id: user.id, email: user.email, role: user.role };
}

/** Returns the signed-in user, or null for a visitor without a session. */
export function getOptionalUser(request: Request): Promise<SessionUser | null> {
  let user = usersByRequest.get(request);
  if (!user) {
    user = loadUser(request);
    usersByRequest.set(request, user);
  }
  return user;
}

function jsonError(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

function wantsJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

function unauthenticated(request: Request): Response {
  const url = new URL(request.url);
  const isRead = request.method === "GET" || request.method === "HEAD";
  if (isRead && !wantsJson(request)) {
    return new Response(null, {
      status: 302,
      headers: { Location: loginPath(url.pathname + url.search) },
    });
  }
  return jsonError(401, {
    error: "unauthenticated",
    message:
      "You are not signed in or your session has ended. Sign in at /login and try again.",
  });
}

/**
 * Returns the signed-in user when their role is at least `role`. Otherwise
 * it throws a redirect to /login or a 401 when there is no session, and a
 * 403 when the role is too low.
 */
export async function requireRole(
  request: Request,
  role: Role,
): Promise<SessionUser> {
  const app = await getApp();
  assertSameOrigin(request, app.env);
  const user = await getOptionalUser(request);
  if (!user) throw unauthenticated(request);
  if (!hasRole(user.role, role)) {
    throw jsonError(403, {
      error: "forbidden",
      message: `This needs the ${role} role, and ${user.email} has the ${user.role} role. Ask an admin to change your role on the Users page.`,
      requiredRole: role,
      role: user.role,
    });
  }
  return user;
}
