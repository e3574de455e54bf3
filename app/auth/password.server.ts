import { hash, verify } from "@node-rs/argon2";

/**
 * Password hashing with argon2id at the @node-rs/argon2 2.x default cost
 * (19 MiB of memory, 2 passes, 1 thread, per its index.d.ts). Hashes are
 * PHC strings, so a later change of cost still verifies older hashes.
 */

export const PASSWORD_MIN_LENGTH = 12;
/** Longer inputs are rejected before hashing so they cannot tie up the CPU. */
export const PASSWORD_MAX_LENGTH = 256;

// argon2id is 2 in @node-rs/argon2's `const enum Algorithm`, which
// isolatedModules cannot import as a value.
const ARGON2ID = 2;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

/** Compares `password` with a stored argon2 hash; false for a malformed hash. */
export async function verifyPassword(
  passwordHash: string,
  password: string,
): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of one verification on a made-up hash, so that a login
 * for an unknown email takes as long as one with a wrong password.
 */
export async function verifyDummyPassword(password: string): Promise<void> {
  dummyHash ??= hashPassword("dummy password used for timing only");
  await verifyPassword(await dummyHash, password);
}
