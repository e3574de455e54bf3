/**
 * The deepest nesting of arrays and objects a JSON webhook body may have.
 * The bound keeps recursive code (canonical hashing, JSON.stringify and
 * PostgreSQL's jsonb parser, which stops at its max_stack_depth) from
 * failing on hostile input, and leaves room for real provider payloads.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Returns the maximum nesting depth of arrays and objects in a JSON text,
 * scanning bytes without parsing, and stops counting once it passes `limit`.
 * Brackets inside strings do not count. Malformed JSON still gets a number,
 * which the parser then rejects on its own.
 */
export function jsonDepth(body: Uint8Array, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return max;
}
