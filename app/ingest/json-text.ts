import { formatIssuePath } from "./test-payload";

/** A string or number in a JSON document that PostgreSQL or RFC 8785 cannot take. */
export interface UnstorableText {
  path: string;
  message: string;
}

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/**
 * Returns `text` as PostgreSQL can store it in a text column: NUL removed and
 * lone surrogates replaced by U+FFFD.
 */
export function storableText(text: string): string {
  return text.replaceAll("\u0000", "").replace(LONE_SURROGATES, "\uFFFD");
}

// Text that may hold a number JSON.parse turns into Infinity: any exponent
// (1 followed by 210 zeros and e99 is Infinity too), or 309 digits in a row.
// Outside strings webhooks rarely carry exponents, so the walk seldom runs.
const HUGE_NUMBER = /\d[eE][+-]?\d|\d{309}/;

const HUGE_NUMBER_PROBLEM =
  "is a number too large to store (it parses as Infinity); send a smaller number or a string";

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
 * surrogate, or a number that parsed as Infinity. Valid UTF-8 cannot encode
 * NUL or a lone surrogate, so only `\u` escapes in the JSON text can produce
 * them, and a text without such escapes or huge numbers is not walked.
 */
export function findUnstorableText(
  jsonText: string,
  value: unknown,
): UnstorableText | null {
  if (!/\\u(0000|[dD][89a-fA-F])/.test(jsonText) && !HUGE_NUMBER.test(jsonText))
    return null;
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
  if (typeof value === "number" && !Number.isFinite(value)) {
    return { path: formatIssuePath(path), message: HUGE_NUMBER_PROBLEM };
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
