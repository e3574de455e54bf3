/**
 * Access checks for dashboard loaders and actions.
 *
 * TODO: replace this open stub with session-based login; until then every
 * visitor is treated as an admin.
 */
export const ROLES = ["viewer", "developer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
}

const OPEN_USER: SessionUser = {
  id: "open",
  email: "open@localhost",
  role: "admin",
};

/** Returns the signed-in user, or null for a visitor without a session. */
export async function getOptionalUser(
  _request: Request,
): Promise<SessionUser | null> {
  return OPEN_USER;
}

/**
 * Returns the signed-in user when their role is at least `role`; otherwise
 * throws a redirect to /login (no session) or a 403 response (role too low).
 */
export async function requireRole(
  _request: Request,
  _role: Role,
): Promise<SessionUser> {
  return OPEN_USER;
}
