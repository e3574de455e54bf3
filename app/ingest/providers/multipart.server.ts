import busboy from "busboy";
import { InvalidFieldError } from "./common.server";

/** One text part of a multipart/form-data body, as raw bytes. */
export interface MultipartField {
  name: string;
  value: Buffer;
}

/** One file part; `data` is null when the file is larger than the limit. */
export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  data: Buffer | null;
}

export interface MultipartBody {
  fields: MultipartField[];
  files: MultipartFile[];
}

/** Returns the first field named `name` decoded as UTF-8, or undefined. */
export function fieldText(
  body: MultipartBody,
  name: string,
): string | undefined {
  return body.fields.find((item) => item.name === name)?.value.toString("utf8");
}

/**
 * Parses a multipart/form-data body that is already in memory. Text parts
 * are read as latin1, which maps each byte to one character, and turned back
 * into their bytes, so the caller can decode them with the charset the
 * provider declares. File bytes are kept only up to `keepFileBytes` each.
 *
 * NOTE: busboy decodes a text part that declares its own charset in a
 * Content-Type header itself, so such a part only keeps its bytes when its
 * text fits in latin1. SendGrid and Mailgun send text parts without one.
 */
export function parseMultipart(
  body: Buffer,
  contentType: string,
  keepFileBytes: number,
): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { "content-type": contentType },
        defCharset: "latin1",
        defParamCharset: "utf8",
        limits: { fieldSize: body.length, fields: 10_000, files: 1000 },
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      reject(
        new InvalidFieldError(
          "content-type",
          `Content-Type is not a valid multipart/form-data type: ${reason}`,
        ),
      );
      return;
    }
    const result: MultipartBody = { fields: [], files: [] };
    parser.on("field", (name, value) => {
      result.fields.push({ name, value: Buffer.from(value, "latin1") });
    });
    parser.on("file", (name, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= keepFileBytes) chunks.push(chunk);
      });
      stream.on("end", () => {
        result.files.push({
          field: name,
          filename: info.filename ?? name,
          contentType: info.mimeType,
          size,
          data: size <= keepFileBytes ? Buffer.concat(chunks, size) : null,
        });
      });
    });
    parser.on("error", (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      reject(
        new InvalidFieldError(
          "(root)",
          `Body is not valid multipart/form-data: ${reason}`,
        ),
      );
    });
    parser.on("close", () => resolve(result));
    parser.end(body);
  });
}
