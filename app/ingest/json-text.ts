import { formatIssuePath } from "./test-payload";

/** A string in a JSON document that PostgreSQL or RFC 8785 cannot take. */
export interface UnstorableText {
  path: string;
  message: string;
}

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | null {
  if (text.includes("\u0000")) {
    return "contains a NUL character (\\u0000), which cannot be stored; remove it";
  }
  if (LONE_SURROGATE.test(text)) {
    return "contains a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair); send valid Unicode";
  }
  return null;
}

/**
 * Finds the first key or string value holding a NUL character or a lone
 * surrogate. Valid UTF-8 cannot encode either, so only `\u` escapes in the
 * JSON text can produce them, and a text without such escapes is not walked.
 */
export function findUnstorableText(
  jsonText: string,
  value: unknown,
): UnstorableText | null {
  if (!/\\u(0000|[dD][89a-fA-F])/.test(jsonText)) return null;
  return walk(value, []);
}

function walk(
  value: unknown,
  path: (string | number)[],
): UnstorableText | null {
  if (typeof value === "string") {
    const message = problemOf(value);
    return message ? { path: formatIssuePath(path), message } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem) {
        return {
          path: formatIssuePath([...path, key]),
          message: `key ${keyProblem}`,
        };
      }
      const found = walk(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
