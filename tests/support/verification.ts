import type { Verification } from "../../app/ingest/providers/common.server";

/** Returns the rejection message of `verification`, or null when it passed. */
export function rejectionMessage(verification: Verification): string | null {
  return verification.ok ? null : verification.message;
}

/** Returns the rejection status of `verification`, or null when it passed. */
export function rejectionStatus(verification: Verification): number | null {
  return verification.ok ? null : verification.status;
}
