import { expect, test } from "vitest";
import { setMultipartFields } from "../../app/ingest/providers/multipart-edit.server";
import { parseMultipart } from "../../app/ingest/providers/multipart.server";

const BOUNDARY = "----edit-test-boundary";
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

interface Part {
  /** The Content-Disposition parameters after `form-data`, as sent. */
  disposition: string;
  contentType?: string;
  value: string | Buffer;
}

function field(name: string, value: string | Buffer): Part {
  return { disposition: `name="${name}"`, value };
}

/** Encodes `parts` the way a client does, byte for byte. */
function encode(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; ${part.disposition}\r\n`;
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`));
    chunks.push(Buffer.from(part.value));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const SIGNATURE_FIELDS = {
  timestamp: "1767268800",
  token: "e0b5477167110d68991efc6b9f89f0a11066af27834600e100",
  signature: "a8c6e37ef8286157ec9d6d156949f1159b8c99f9ca8dae1c97ead01ed407c0ff",
};

const BINARY = Buffer.from([
  0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d, 0x0d, 0x0d, 0x0a,
  0x0a, 0x80, 0xfe,
]);

function mailgunParts(overrides: Record<string, string> = {}): Part[] {
  const values: Record<string, string> = {
    "Message-Id": "<original@example.test>",
    ...SIGNATURE_FIELDS,
    ...overrides,
  };
  return [
    field("recipient", "support@mg.example.test"),
    field("Message-Id", values["Message-Id"]),
    field("body-plain", "unix\nwindows\r\nold mac\rend"),
    field("timestamp", values.timestamp),
    field("token", values.token),
    field("signature", values.signature),
    {
      disposition: 'name="attachment-1"; filename="we\\"ird; name.txt"',
      contentType: "text/plain",
      value: "file line\nsecond\r\n",
    },
    {
      disposition: 'name="attachment-2"; filename="scan.pdf"',
      contentType: "application/pdf",
      value: BINARY,
    },
  ];
}

test("signature fields are replaced in place", () => {
  const fresh = {
    timestamp: "1767270000",
    token: "f".repeat(50),
    signature: "0".repeat(64),
  };
  const edited = setMultipartFields(
    encode(mailgunParts()),
    CONTENT_TYPE,
    fresh,
  );
  expect(edited).toEqual(encode(mailgunParts(fresh)));
});

test("Message-Id is replaced in place", () => {
  const messageId = "<replay.1@inbox.local>";
  const edited = setMultipartFields(encode(mailgunParts()), CONTENT_TYPE, {
    "Message-Id": messageId,
  });
  expect(edited).toEqual(encode(mailgunParts({ "Message-Id": messageId })));
});

test("edited body keeps values and files", async () => {
  const edited = setMultipartFields(encode(mailgunParts()), CONTENT_TYPE, {
    "Message-Id": "<replay.2@inbox.local>",
    token: "a".repeat(50),
  });
  expect(edited).not.toBeNull();
  const parsed = await parseMultipart(edited!, CONTENT_TYPE, 1024);
  const text = parsed.fields.find((item) => item.name === "body-plain");
  expect(text?.value).toEqual(Buffer.from("unix\nwindows\r\nold mac\rend"));
  const token = parsed.fields.find((item) => item.name === "token");
  expect(token?.value.toString()).toBe("a".repeat(50));
  expect(parsed.files).toHaveLength(2);
  expect(parsed.files[0].filename).toBe('we"ird; name.txt');
  expect(parsed.files[0].data).toEqual(Buffer.from("file line\nsecond\r\n"));
  expect(parsed.files[1].filename).toBe("scan.pdf");
  expect(parsed.files[1].data).toEqual(BINARY);
});

test("missing fields are appended", async () => {
  const unsigned = mailgunParts().filter(
    (part) => !/name="(timestamp|token|signature)"$/.test(part.disposition),
  );
  const original = encode(unsigned);
  const edited = setMultipartFields(original, CONTENT_TYPE, SIGNATURE_FIELDS);
  expect(edited).not.toBeNull();
  const close = Buffer.from(`--${BOUNDARY}--\r\n`);
  const parts = original.subarray(0, original.length - close.length);
  expect(edited!.subarray(0, parts.length)).toEqual(parts);
  expect(edited!.subarray(edited!.length - close.length)).toEqual(close);
  const parsed = await parseMultipart(edited!, CONTENT_TYPE, 1024);
  const names = parsed.fields.map((item) => item.name);
  expect(names).toEqual([
    "recipient",
    "Message-Id",
    "body-plain",
    "timestamp",
    "token",
    "signature",
  ]);
  for (const [name, value] of Object.entries(SIGNATURE_FIELDS)) {
    const part = parsed.fields.find((item) => item.name === name);
    expect(part?.value.toString()).toBe(value);
  }
  expect(parsed.files.map((file) => file.data)).toEqual([
    Buffer.from("file line\nsecond\r\n"),
    BINARY,
  ]);
});

test("file part with a field's name is kept", () => {
  const parts: Part[] = [
    field("token", "old"),
    {
      disposition: 'name="token"; filename="token.txt"',
      contentType: "text/plain",
      value: "file",
    },
    {
      disposition: 'name="token"',
      contentType: "application/octet-stream",
      value: "bytes",
    },
  ];
  const edited = setMultipartFields(encode(parts), CONTENT_TYPE, {
    token: "new",
  });
  expect(edited).toEqual(encode([field("token", "new"), ...parts.slice(1)]));
});

test("same-name fields all replaced", () => {
  const parts = [field("token", "first"), field("token", "second")];
  const edited = setMultipartFields(encode(parts), CONTENT_TYPE, {
    token: "new",
  });
  expect(edited).toEqual(
    encode([field("token", "new"), field("token", "new")]),
  );
});

test("unquoted and escaped names are matched", () => {
  const parts: Part[] = [
    { disposition: "name=token", value: "old" },
    { disposition: 'name="we\\"ird"', value: "old" },
  ];
  const edited = setMultipartFields(encode(parts), CONTENT_TYPE, {
    token: "new",
    'we"ird': "new",
  });
  expect(edited).toEqual(
    encode([
      { disposition: "name=token", value: "new" },
      { disposition: 'name="we\\"ird"', value: "new" },
    ]),
  );
});

test("preamble, empty value, epilogue kept", () => {
  const body = Buffer.concat([
    Buffer.from("preamble\r\n"),
    encode([field("empty", ""), field("token", "")]),
    Buffer.from("epilogue\r\n"),
  ]);
  const edited = setMultipartFields(body, CONTENT_TYPE, { token: "new" });
  const expected = Buffer.concat([
    Buffer.from("preamble\r\n"),
    encode([field("empty", ""), field("token", "new")]),
    Buffer.from("epilogue\r\n"),
  ]);
  expect(edited).toEqual(expected);
});

test("body without parts gets the fields", async () => {
  const edited = setMultipartFields(encode([]), CONTENT_TYPE, {
    token: "new",
  });
  expect(edited).toEqual(encode([field("token", "new")]));
  const parsed = await parseMultipart(edited!, CONTENT_TYPE, 1024);
  expect(parsed.fields).toEqual([{ name: "token", value: Buffer.from("new") }]);
});

test("quoted boundary parameter is read", () => {
  const boundary = "quoted boundary";
  const parts = [field("token", "old")];
  const edited = setMultipartFields(
    encode(parts, boundary),
    `multipart/form-data; boundary="${boundary}"`,
    { token: "new" },
  );
  expect(edited).toEqual(encode([field("token", "new")], boundary));
});

test("unparsable bodies return null", () => {
  const body = encode(mailgunParts());
  const fields = { token: "new" };
  expect(setMultipartFields(body, "multipart/form-data", fields)).toBeNull();
  expect(setMultipartFields(body, "text/plain; boundary=x", fields)).toBeNull();
  expect(setMultipartFields(body, "not a content type", fields)).toBeNull();
  expect(
    setMultipartFields(body, "multipart/form-data; boundary=other", fields),
  ).toBeNull();
  const truncated = body.subarray(0, body.length - 10);
  expect(setMultipartFields(truncated, CONTENT_TYPE, fields)).toBeNull();
  const headerOnly = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n--${BOUNDARY}--\r\n`,
  );
  expect(setMultipartFields(headerOnly, CONTENT_TYPE, fields)).toBeNull();
});

test("value with the delimiter is rejected", () => {
  const body = encode([field("token", "old")]);
  expect(() =>
    setMultipartFields(body, CONTENT_TYPE, { token: `x\r\n--${BOUNDARY}` }),
  ).toThrow(RangeError);
  expect(() =>
    setMultipartFields(body, CONTENT_TYPE, { token: `--${BOUNDARY}--` }),
  ).toThrow(RangeError);
  expect(() =>
    setMultipartFields(body, CONTENT_TYPE, { "bad\r\nname": "x" }),
  ).toThrow(RangeError);
});
