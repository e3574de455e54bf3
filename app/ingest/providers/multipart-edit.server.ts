/**
 * Edits text fields in a raw multipart/form-data body in place. Every byte
 * outside the edited values stays as it was, so line breaks in other values,
 * quoted filenames and file contents survive. The runtime's FormData encoder
 * would change them, because it turns line breaks into CRLF and
 * percent-escapes quotes.
 *
 * Parts are found the way busboy (the parser of multipart.server.ts) finds
 * them. A part ends at the next CRLF "--" boundary, and the body may start
 * with "--" boundary without a CRLF. A part is a text field when its
 * Content-Disposition is form-data with a name and no filename or filename*
 * parameter, and its Content-Type is not application/octet-stream.
 */
import { parse as parseContentType } from "content-type";

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const DASH = 0x2d;
const CR = 0x0d;
const LF = 0x0a;

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const DISPOSITION_TYPE = new RegExp(`^${TOKEN}`);
/** One `; name=value` parameter, with a token or a quoted-string value. */
const DISPOSITION_PARAMETER = new RegExp(
  `[ \\t]*;[ \\t]*(${TOKEN})=(${TOKEN}|"(?:[^"\\\\]|\\\\.)*")[ \\t]*`,
  "y",
);

/** The byte range of one text field's value. */
interface FieldValue {
  name: string;
  start: number;
  end: number;
}

interface FieldLayout {
  fields: FieldValue[];
  /** Offset of the close delimiter "--" boundary "--". */
  closeStart: number;
}

/**
 * Sets the value of each text field named in `values` (UTF-8 encoded) in
 * `body`, a multipart/form-data body sent with header `contentType`. Every
 * part with that name gets the value. A name that no part has is added as a
 * new text part before the close delimiter, in the order of `values`.
 * Returns null when `contentType` has no boundary or `body` is not a
 * complete multipart body, and raises RangeError for a name or value that
 * would break the framing.
 */
export function setMultipartFields(
  body: Buffer,
  contentType: string,
  values: Readonly<Record<string, string>>,
): Buffer | null {
  const boundary = boundaryOf(contentType);
  if (boundary === null) return null;
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  for (const [name, value] of Object.entries(values)) {
    checkField(name, value, delimiter);
  }
  const layout = locateFields(body, delimiter);
  if (layout === null) return null;

  const chunks: Buffer[] = [];
  let copied = 0;
  for (const field of layout.fields) {
    if (!Object.hasOwn(values, field.name)) continue;
    chunks.push(body.subarray(copied, field.start));
    chunks.push(Buffer.from(values[field.name]));
    copied = field.end;
  }
  chunks.push(body.subarray(copied, layout.closeStart));
  const present = new Set(layout.fields.map((field) => field.name));
  for (const [name, value] of Object.entries(values)) {
    if (present.has(name)) continue;
    const quoted = name.replace(/["\\]/g, "\\$&");
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  chunks.push(body.subarray(layout.closeStart));
  return Buffer.concat(chunks);
}

function boundaryOf(contentType: string): string | null {
  let parsed: ReturnType<typeof parseContentType>;
  try {
    parsed = parseContentType(contentType);
  } catch {
    return null;
  }
  const boundary = parsed.parameters.boundary;
  if (parsed.type !== "multipart/form-data" || !boundary) return null;
  return boundary;
}

function checkField(name: string, value: string, delimiter: Buffer): void {
  if (name === "" || /[\r\n]/.test(name)) {
    throw new RangeError(
      `Multipart field name ${JSON.stringify(name)} is invalid: it must be non-empty and contain no CR or LF`,
    );
  }
  // The CRLF before a value is part of a delimiter that the value starts.
  if (Buffer.from(`\r\n${value}`).includes(delimiter)) {
    throw new RangeError(
      `Value of multipart field ${JSON.stringify(name)} contains the boundary delimiter`,
    );
  }
}

/**
 * Finds the text fields of `body` and its close delimiter, or returns null
 * when a part header does not end before the next delimiter or the close
 * delimiter is missing, as busboy then fails too.
 */
function locateFields(body: Buffer, delimiter: Buffer): FieldLayout | null {
  // busboy feeds a CRLF before the body, so the first delimiter may lack
  // it. An offset in `framed` is CRLF.length more than the same byte's
  // offset in `body`.
  const framed = Buffer.concat([CRLF, body]);
  const fields: FieldValue[] = [];
  let match = framed.indexOf(delimiter);
  while (match !== -1) {
    const after = match + delimiter.length;
    if (framed[after] === DASH && framed[after + 1] === DASH) {
      return { fields, closeStart: match };
    }
    const next = framed.indexOf(delimiter, after);
    // A delimiter followed by anything but CRLF starts no part, and busboy
    // drops the bytes up to the next delimiter.
    if (framed[after] === CR && framed[after + 1] === LF) {
      // Searching from the CRLF that ends the delimiter line also finds an
      // empty header block.
      const headerEnd = framed.indexOf(HEADER_END, after);
      const valueStart = headerEnd + HEADER_END.length;
      if (next === -1 || headerEnd === -1 || valueStart > next) return null;
      const headerBlock = framed.toString(
        "latin1",
        after + CRLF.length,
        headerEnd,
      );
      const name = fieldName(headerBlock);
      if (name !== null) {
        fields.push({
          name,
          start: valueStart - CRLF.length,
          end: next - CRLF.length,
        });
      }
    }
    match = next;
  }
  return null;
}

/** Returns the field name of a part's header block, or null for a file. */
function fieldName(headerBlock: string): string | null {
  const headers = new Map<string, string>();
  // A line that starts with a space or tab continues the previous header.
  for (const line of headerBlock.replace(/\r\n(?=[ \t])/g, "").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (!headers.has(name)) {
      headers.set(name, line.slice(colon + 1).replace(/^[ \t]+/, ""));
    }
  }
  const disposition = headers.get("content-disposition");
  if (disposition === undefined) return null;
  const parameters = dispositionParameters(disposition);
  if (parameters === null) return null;
  if (parameters.has("filename") || parameters.has("filename*")) return null;
  if (partType(headers.get("content-type")) === "application/octet-stream") {
    return null;
  }
  const name = parameters.get("name");
  if (name === undefined || name === "") return null;
  // busboy reads parameter values as UTF-8 (defParamCharset).
  return Buffer.from(name, "latin1").toString("utf8");
}

/**
 * Parses a form-data Content-Disposition value into its parameters, the
 * first of each name kept. Returns null for another type or a malformed
 * value, which busboy skips as a part.
 */
function dispositionParameters(value: string): Map<string, string> | null {
  const type = DISPOSITION_TYPE.exec(value)?.[0];
  if (type?.toLowerCase() !== "form-data") return null;
  const parameters = new Map<string, string>();
  let position = type.length;
  while (position < value.length) {
    DISPOSITION_PARAMETER.lastIndex = position;
    const match = DISPOSITION_PARAMETER.exec(value);
    if (match === null) {
      return /^[ \t]*$/.test(value.slice(position)) ? parameters : null;
    }
    position = DISPOSITION_PARAMETER.lastIndex;
    const name = match[1].toLowerCase();
    // busboy unescapes only \\ and \" in a quoted-string.
    const parameter = match[2].startsWith('"')
      ? match[2].slice(1, -1).replace(/\\([\\"])/g, "$1")
      : match[2];
    if (!parameters.has(name)) parameters.set(name, parameter);
  }
  return parameters;
}

function partType(contentType: string | undefined): string {
  if (contentType === undefined) return "text/plain";
  try {
    return parseContentType(contentType).type;
  } catch {
    return "text/plain";
  }
}
