/**
 * Dashboard roles, lowest first. Each role can do everything the roles
 * before it can: viewers read, developers also test-send and replay, admins
 * also manage users.
 */
export const ROLES = ["viewer", "developer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Returns whether `role` is `minimum` or a role above it. */
export function hasRole(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

export function isRole(value: unknown): value is Role {
  return (
    typeof value === "string" && (ROLES as readonly string[]).includes(value)
  );
}
