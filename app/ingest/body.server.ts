import { parse as parseContentType } from "content-type";
import { Readable } from "node:stream";

/** Raised when a body grows past the limit while it is read. */
export class BodyTooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`Request body is larger than the limit of ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Raised when the client closes the connection or the stream fails before the
 * body ended. `code` is ERR_STREAM_PREMATURE_CLOSE, and `cause` the stream's
 * own error, such as Node's "aborted" with code ECONNRESET.
 */
export class ClientAbortedError extends Error {
  readonly code = "ERR_STREAM_PREMATURE_CLOSE";

  constructor(cause?: unknown) {
    super("Request closed before its body ended", { cause });
    this.name = "ClientAbortedError";
  }
}

/**
 * Reads a request body into one Buffer, stopping with BodyTooLargeError as
 * soon as more than `limit` bytes have arrived, so an oversized body is never
 * held in memory whole. A Content-Length above the limit fails before reading.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array> | null,
  limit: number,
  declaredLength?: string,
): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > limit) {
    throw new BodyTooLargeError(limit);
  }
  if (body === null) return Buffer.alloc(0);
  if (body instanceof Readable) return readStream(body, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(
        Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    throw new ClientAbortedError(error);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

/**
 * Reads a Node stream such as http.IncomingMessage through its events,
 * because `for await` builds an async iterator with several listeners per
 * request, which costs more than reading a small body. Past the limit the
 * stream is paused, not destroyed, so the server can still send its 413.
 */
function readStream(stream: Readable, limit: number): Promise<Buffer> {
  // An ended stream emits no more events; like `for await`, it reads as empty.
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (stream.destroyed) return Promise.reject(new ClientAbortedError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new ClientAbortedError(error));
    };
    const onClose = () => {
      cleanup();
      reject(new ClientAbortedError());
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

/**
 * Returns the media type of a Content-Type header in lower case, without
 * parameters: `application/json; charset=utf-8` gives `application/json`.
 */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return "";
  const end = contentType.indexOf(";");
  return (end === -1 ? contentType : contentType.slice(0, end))
    .trim()
    .toLowerCase();
}

/**
 * Returns the charset parameter of a Content-Type header in lower case, with
 * quotes removed, or null when there is none:
 * `application/json; charset="UTF-8"` gives `utf-8`. Raises TypeError for a
 * header that is not `type/subtype` followed by `; name=value` parameters.
 */
export function charsetOf(header: string | undefined): string | null {
  if (!header) return null;
  const charset = parseContentType(header).parameters.charset;
  return charset === undefined ? null : charset.toLowerCase();
}

const EXCERPT_BYTES = 512;

/**
 * A short, printable excerpt of a rejected body for the failures page:
 * the first 512 bytes decoded as UTF-8, with control characters shown as
 * U+FFFD so nothing in it can break a terminal or a page.
 */
export function safeExcerpt(body: Buffer | null | undefined): string | null {
  if (!body || body.length === 0) return null;
  const text = body.subarray(0, EXCERPT_BYTES).toString("utf8");
  const printable = text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g,
    "\ufffd",
  );
  return body.length > EXCERPT_BYTES ? `${printable}…` : printable;
}
