import { data } from "@remix-run/node";
import { InvalidQueryError } from "./keyset.server";

/**
 * Runs `parse` and turns an InvalidQueryError into a thrown 400 response
 * whose text names the parameter and the fix.
 */
export function parseQuery<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidQueryError) {
      throw data(error.message, { status: 400, statusText: "Bad Request" });
    }
    throw error;
  }
}
