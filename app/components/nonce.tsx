import { createContext, useContext } from "react";

/**
 * The Content-Security-Policy nonce of the current HTML response. The
 * server sets it in entry.server.tsx; in the browser it is an empty string,
 * because browsers hide nonce attributes from scripts after loading.
 */
const NonceContext = createContext("");

export const NonceProvider = NonceContext.Provider;

export function useNonce(): string {
  return useContext(NonceContext);
}
