const ORIGIN_PLACEHOLDER = "http://redirect.invalid";

/** Paths that must not be a destination after login. */
const EXCLUDED_PATHS = new Set(["/login", "/logout"]);

/**
 * Returns `value` when it is a path on this site, else `fallback`. This
 * stops a crafted /login?redirectTo= link from sending a user to another
 * site after login: "//evil.example", "/\\evil.example" and absolute URLs
 * are all rejected.
 */
export function safeRedirectPath(value: unknown, fallback = "/"): string {
  if (typeof value !== "string") return fallback;
  if (!value.startsWith("/") || value.startsWith("//")) return fallback;
  // Browsers read "\" as "/", and strip tabs and newlines from URLs.
  if (value.includes("\\") || hasControlCharacter(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, ORIGIN_PLACEHOLDER);
  } catch {
    return fallback;
  }
  if (url.origin !== ORIGIN_PLACEHOLDER) return fallback;
  if (EXCLUDED_PATHS.has(url.pathname)) return fallback;
  return url.pathname + url.search + url.hash;
}

/** Builds the /login URL that returns to `path` after signing in. */
export function loginPath(path: string): string {
  const target = safeRedirectPath(path, "/");
  return target === "/"
    ? "/login"
    : `/login?redirectTo=${encodeURIComponent(target)}`;
}

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
