import type { Prisma, PrismaClient } from "~/generated/prisma/client";
import {
  hashPassword,
  verifyDummyPassword,
  verifyPassword,
} from "./password.server";
import { isRole, type Role } from "./roles";

/** A dashboard account without its password hash. */
export interface UserRecord {
  id: string;
  email: string;
  role: Role;
  createdAt: Date;
  updatedAt: Date;
}

/** Raised when a change would leave the dashboard without an admin. */
export class LastAdminError extends Error {
  constructor() {
    super(
      "This is the last admin. Make another user an admin first, then change or delete this one.",
    );
    this.name = "LastAdminError";
  }
}

export class UserNotFoundError extends Error {
  constructor(id: string) {
    super(`User ${id} was not found; it may have been deleted.`);
    this.name = "UserNotFoundError";
  }
}

export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`A user with the email ${email} already exists.`);
    this.name = "EmailTakenError";
  }
}

/** Emails are stored and compared lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const PUBLIC_FIELDS = {
  id: true,
  email: true,
  role: true,
  createdAt: true,
  updatedAt: true,
} as const;

function toRecord(row: {
  id: string;
  email: string;
  role: string;
  createdAt: Date;
  updatedAt: Date;
}): UserRecord {
  if (!isRole(row.role)) {
    throw new Error(`User ${row.id} has an unknown role: ${row.role}`);
  }
  return { ...row, role: row.role };
}

export async function listUsers(prisma: PrismaClient): Promise<UserRecord[]> {
  const rows = await prisma.user.findMany({
    select: PUBLIC_FIELDS,
    orderBy: { email: "asc" },
  });
  return rows.map(toRecord);
}

/**
 * Loads a user together with the fields a session is checked against: the
 * password hash changes on a password reset and so ends older sessions.
 */
export async function findSessionUser(
  prisma: PrismaClient,
  id: string,
): Promise<(UserRecord & { passwordHash: string }) | null> {
  const row = await prisma.user.findUnique({
    where: { id },
    select: { ...PUBLIC_FIELDS, passwordHash: true },
  });
  return row ? { ...toRecord(row), passwordHash: row.passwordHash } : null;
}

/**
 * Returns the user when `password` matches, else null. Unknown emails take
 * as long as wrong passwords, so the timing does not reveal which emails
 * have accounts.
 */
export async function authenticate(
  prisma: PrismaClient,
  email: string,
  password: string,
): Promise<(UserRecord & { passwordHash: string }) | null> {
  const row = await prisma.user.findUnique({
    where: { email: normalizeEmail(email) },
    select: { ...PUBLIC_FIELDS, passwordHash: true },
  });
  if (!row) {
    await verifyDummyPassword(password);
    return null;
  }
  if (!(await verifyPassword(row.passwordHash, password))) return null;
  return { ...toRecord(row), passwordHash: row.passwordHash };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    error.code === "P2002"
  );
}

export async function createUser(
  prisma: PrismaClient,
  input: { email: string; role: Role; password: string },
): Promise<UserRecord> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  try {
    const row = await prisma.user.create({
      data: { email, role: input.role, passwordHash },
      select: PUBLIC_FIELDS,
    });
    return toRecord(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailTakenError(email);
    throw error;
  }
}

/**
 * Creates the user, or updates the role and (when given) the password of an
 * existing one. Returns whether a new user was created.
 */
export async function upsertUser(
  prisma: PrismaClient,
  input: { email: string; role?: Role; password?: string },
): Promise<{ user: UserRecord; created: boolean }> {
  const email = normalizeEmail(input.email);
  const passwordHash =
    input.password === undefined
      ? undefined
      : await hashPassword(input.password);
  const existing = await prisma.user.findUnique({
    where: { email },
    select: { id: true },
  });
  if (existing) {
    if (input.role !== undefined) {
      await changeRole(prisma, existing.id, input.role);
    }
    const row = await prisma.user.update({
      where: { id: existing.id },
      data: passwordHash === undefined ? {} : { passwordHash },
      select: PUBLIC_FIELDS,
    });
    return { user: toRecord(row), created: false };
  }
  if (passwordHash === undefined) {
    throw new Error(
      `No user has the email ${email}; a password is required to create one.`,
    );
  }
  const row = await prisma.user.create({
    data: { email, role: input.role ?? "viewer", passwordHash },
    select: PUBLIC_FIELDS,
  });
  return { user: toRecord(row), created: true };
}

/**
 * Runs `change` on user `id` in a transaction that holds row locks on every
 * admin, and raises LastAdminError instead when `id` is the only admin and
 * `removesAdmin` is true. The locks make two concurrent demotions of the
 * last two admins wait for each other, so one of them fails.
 */
async function withAdminGuard(
  prisma: PrismaClient,
  id: string,
  removesAdmin: boolean,
  change: (tx: Prisma.TransactionClient) => Promise<void>,
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const admins = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM app_user WHERE role = 'admin' FOR UPDATE`;
    const target = await tx.user.findUnique({
      where: { id },
      select: { role: true },
    });
    if (!target) throw new UserNotFoundError(id);
    const isAdmin = admins.some((admin) => admin.id === id);
    if (removesAdmin && isAdmin && admins.length === 1) {
      throw new LastAdminError();
    }
    await change(tx);
  });
}

export async function changeRole(
  prisma: PrismaClient,
  id: string,
  role: Role,
): Promise<void> {
  await withAdminGuard(prisma, id, role !== "admin", async (tx) => {
    await tx.user.update({ where: { id }, data: { role } });
  });
}

export async function deleteUser(
  prisma: PrismaClient,
  id: string,
): Promise<void> {
  await withAdminGuard(prisma, id, true, async (tx) => {
    await tx.user.delete({ where: { id } });
  });
}

export async function resetPassword(
  prisma: PrismaClient,
  id: string,
  password: string,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  const { count } = await prisma.user.updateMany({
    where: { id },
    data: { passwordHash },
  });
  if (count === 0) throw new UserNotFoundError(id);
}

/**
 * Creates or promotes the admin `email` when the database has no admin yet,
 * and does nothing when it has one. The transaction-level advisory lock keeps
 * two instances that start together from both creating it.
 */
export async function ensureFirstAdmin(
  prisma: PrismaClient,
  email: string,
  password: string,
): Promise<UserRecord | null> {
  const passwordHash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${FIRST_ADMIN_LOCK_KEY})`;
    const admins = await tx.user.count({ where: { role: "admin" } });
    if (admins > 0) return null;
    const row = await tx.user.upsert({
      where: { email: normalizeEmail(email) },
      create: { email: normalizeEmail(email), role: "admin", passwordHash },
      update: { role: "admin", passwordHash },
      select: PUBLIC_FIELDS,
    });
    return toRecord(row);
  });
}

/** Advisory lock key for ensureFirstAdmin, unrelated to Prisma Migrate's. */
const FIRST_ADMIN_LOCK_KEY = 4_242_101;
