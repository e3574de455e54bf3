import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  signMeta,
  signPostmark,
  signResend,
  type SignedRequest,
} from "../../app/ingest/providers/signing.server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { sendRaw } from "../support/fixtures";
import {
  startServer,
  waitForRequestRecord,
  type RunningServer,
} from "../support/server";
import { testWebhookSecrets } from "../support/webhook-secrets";

const secrets = testWebhookSecrets();

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase("provider_input_types");
  server = await startServer({ DATABASE_URL: db.url, ...secrets });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type Json = Record<string, unknown>;

/** A wrong-typed body and the field and message the 400 must name. */
interface TypeCase {
  body: Json;
  field: string;
  message: string;
}

let requestCounter = 0;

async function send(request: SignedRequest) {
  const requestId = `input-types-${++requestCounter}`;
  const response = await sendRaw(
    server.url,
    request.method,
    request.path,
    { ...request.headers, "x-request-id": requestId },
    request.body,
  );
  return { response, requestId };
}

function toBody(json: Json): Buffer {
  return Buffer.from(JSON.stringify(json));
}

function sendPostmark(json: Json) {
  return send(signPostmark(toBody(json), secrets.POSTMARK_BASIC_AUTH));
}

function sendResend(json: Json) {
  const webhookId = `msg_${randomBytes(8).toString("hex")}`;
  const request = signResend(
    toBody(json),
    webhookId,
    secrets.RESEND_WEBHOOK_SECRET,
    new Date(),
  );
  return send(request);
}

function sendMeta(json: Json) {
  return send(signMeta(toBody(json), secrets.META_APP_SECRET));
}

async function messageCount(where: string, values: unknown[]) {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM message WHERE ${where}`,
    values,
  );
  return rows[0].n;
}

function postmarkBody(overrides: Json = {}): Json {
  return {
    MessageID: randomUUID(),
    From: "alice@example.com",
    FromFull: { Email: "alice@example.com", Name: "Alice" },
    To: "support@inbound.postmarkapp.com",
    ToFull: [{ Email: "support@inbound.postmarkapp.com", Name: "" }],
    Subject: "Question",
    TextBody: "Hello",
    Attachments: [],
    ...overrides,
  };
}

const POSTMARK_CASES: TypeCase[] = [
  {
    body: postmarkBody({ MessageID: 7 }),
    field: "MessageID",
    message: "MessageID must be a string, got number",
  },
  {
    body: postmarkBody({ From: 42, FromFull: undefined }),
    field: "From",
    message: "From must be a string, got number",
  },
  {
    body: postmarkBody({ From: 42 }),
    field: "From",
    message: "From must be a string, got number",
  },
  {
    body: postmarkBody({ FromFull: "alice@example.com" }),
    field: "FromFull",
    message: "FromFull must be an object, got string",
  },
  {
    body: postmarkBody({ FromFull: { Email: 1 } }),
    field: "FromFull.Email",
    message: "FromFull.Email must be a string, got number",
  },
  {
    body: postmarkBody({ To: true, ToFull: undefined }),
    field: "To",
    message: "To must be a string, got boolean",
  },
  {
    body: postmarkBody({ ToFull: { Email: "a@example.com" } }),
    field: "ToFull",
    message: "ToFull must be an array, got object",
  },
  {
    body: postmarkBody({ ToFull: ["a@example.com"] }),
    field: "ToFull[0]",
    message: "ToFull[0] must be an object, got string",
  },
  {
    body: postmarkBody({ ToFull: [{ Email: 5 }] }),
    field: "ToFull[0].Email",
    message: "ToFull[0].Email must be a string, got number",
  },
  {
    body: postmarkBody({ Subject: ["x"] }),
    field: "Subject",
    message: "Subject must be a string, got array",
  },
  {
    body: postmarkBody({ TextBody: { text: "Hello" } }),
    field: "TextBody",
    message: "TextBody must be a string, got object",
  },
  {
    body: postmarkBody({ Attachments: "none" }),
    field: "Attachments",
    message: "Attachments must be an array, got string",
  },
  {
    body: postmarkBody({ Attachments: [{ Name: 3, Content: "" }] }),
    field: "Attachments[0].Name",
    message: "Attachments[0].Name must be a string, got number",
  },
  {
    body: postmarkBody({ Attachments: [{ Name: "a.txt", Content: false }] }),
    field: "Attachments[0].Content",
    message: "Attachments[0].Content must be a string, got boolean",
  },
];

test("postmark wrong field types return 400", async () => {
  for (const { body, field, message } of POSTMARK_CASES) {
    const { response, requestId } = await sendPostmark(body);
    expect(response.status, message).toBe(400);
    const errorBody = JSON.parse(response.body);
    expect(errorBody.error, message).toBe("invalid_payload");
    expect(errorBody.message).toBe(message);
    expect(errorBody.issues, message).toEqual([{ path: field, message }]);
    const dedupKey = `postmark:${String(body.MessageID)}`;
    expect(await messageCount("dedup_key = $1", [dedupKey]), message).toBe(0);
    const record = await waitForRequestRecord(db.pool, requestId);
    expect(record.outcome, message).toBe("invalid");
    expect(record.error_message, message).toBe(message);
  }
});

test("postmark absent fields stay missing", async () => {
  const cases: [Json, string][] = [
    [postmarkBody({ MessageID: undefined }), "MessageID is missing"],
    [postmarkBody({ MessageID: "" }), "MessageID is missing"],
    [postmarkBody({ From: undefined, FromFull: undefined }), "From is missing"],
    [postmarkBody({ From: null, FromFull: undefined }), "From is missing"],
    [postmarkBody({ To: undefined, ToFull: undefined }), "To is missing"],
    [
      postmarkBody({ ToFull: [{ Name: "Support" }] }),
      "ToFull[0].Email is missing",
    ],
  ];
  for (const [body, message] of cases) {
    const { response } = await sendPostmark(body);
    expect(response.status, message).toBe(400);
    expect(JSON.parse(response.body).message).toBe(message);
  }
});

test("postmark null optional fields are stored", async () => {
  const body = postmarkBody({
    Subject: null,
    TextBody: null,
    Attachments: null,
    FromFull: null,
    From: "Alice <alice@example.com>",
  });
  const { response } = await sendPostmark(body);
  expect(response.status).toBe(200);
  const { rows } = await db.pool.query(
    "SELECT * FROM message WHERE dedup_key = $1",
    [`postmark:${String(body.MessageID)}`],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].sender).toBe("alice@example.com");
  expect(rows[0].recipient).toBe("support@inbound.postmarkapp.com");
  expect(rows[0].subject).toBeNull();
  expect(rows[0].text_preview).toBe("");
});

function resendBody(data: Json = {}, type = "email.received"): Json {
  return {
    type,
    created_at: new Date().toISOString(),
    data: {
      email_id: randomUUID(),
      from: "Alice <alice@example.com>",
      to: ["support@inbound.example.test"],
      subject: "Invoice",
      attachments: [],
      ...data,
    },
  };
}

const RESEND_CASES: TypeCase[] = [
  {
    body: { type: 1, data: {} },
    field: "type",
    message: "type must be a string, got number",
  },
  {
    body: { type: "email.received", data: [] },
    field: "data",
    message: "data must be an object, got array",
  },
  {
    body: { type: "email.received", data: "x" },
    field: "data",
    message: "data must be an object, got string",
  },
  {
    body: resendBody({ from: 42 }),
    field: "data.from",
    message: "data.from must be a string, got number",
  },
  {
    body: resendBody({ subject: ["x"] }),
    field: "data.subject",
    message: "data.subject must be a string, got array",
  },
  {
    body: resendBody({ text: { body: "x" } }),
    field: "data.text",
    message: "data.text must be a string, got object",
  },
  {
    body: resendBody({ email_id: 5 }),
    field: "data.email_id",
    message: "data.email_id must be a string, got number",
  },
  {
    body: resendBody({ email_id: 5 }, "email.delivered"),
    field: "data.email_id",
    message: "data.email_id must be a string, got number",
  },
  {
    body: resendBody({ to: 5 }),
    field: "data.to",
    message: "data.to must be an array of strings, got number",
  },
  {
    body: resendBody({ to: ["a@example.com", 1] }),
    field: "data.to[1]",
    message: "data.to[1] must be a string, got number",
  },
  {
    body: resendBody({ attachments: {} }),
    field: "data.attachments",
    message: "data.attachments must be an array, got object",
  },
  {
    body: resendBody({ attachments: ["a.pdf"] }),
    field: "data.attachments[0]",
    message: "data.attachments[0] must be an object, got string",
  },
  {
    body: resendBody({ attachments: [{ filename: 1 }] }),
    field: "data.attachments[0].filename",
    message: "data.attachments[0].filename must be a string, got number",
  },
];

test("resend wrong field types return 400", async () => {
  for (const { body, field, message } of RESEND_CASES) {
    const before = await messageCount("provider = $1", ["resend"]);
    const { response, requestId } = await sendResend(body);
    expect(response.status, message).toBe(400);
    const errorBody = JSON.parse(response.body);
    expect(errorBody.error, message).toBe("invalid_payload");
    expect(errorBody.message).toBe(message);
    expect(errorBody.issues, message).toEqual([{ path: field, message }]);
    expect(await messageCount("provider = $1", ["resend"]), message).toBe(
      before,
    );
    const record = await waitForRequestRecord(db.pool, requestId);
    expect(record.outcome, message).toBe("invalid");
  }
});

test("resend absent fields stay missing", async () => {
  const cases: [Json, string][] = [
    [{ data: {} }, "type is missing"],
    [{ type: "email.received" }, "data is missing"],
    [{ type: "email.received", data: null }, "data is missing"],
    [resendBody({ from: undefined }), "data.from is missing"],
    [resendBody({ email_id: "" }, "email.bounced"), "data.email_id is missing"],
  ];
  for (const [body, message] of cases) {
    const { response } = await sendResend(body);
    expect(response.status, message).toBe(400);
    expect(JSON.parse(response.body).message).toBe(message);
  }
});

test("resend single address and nulls are stored", async () => {
  const body = resendBody({
    to: "Support <support@inbound.example.test>",
    subject: null,
    text: null,
    attachments: [{ id: "att_1", filename: "a.pdf", content_id: null }],
  });
  const emailId = (body.data as Json).email_id;
  const { response } = await sendResend(body);
  expect(response.status).toBe(200);
  const { rows } = await db.pool.query(
    "SELECT * FROM message WHERE external_id = $1",
    [emailId],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].sender).toBe("alice@example.com");
  expect(rows[0].recipient).toBe("support@inbound.example.test");
  expect(rows[0].subject).toBeNull();
});

function newWamid(): string {
  return `wamid.${randomBytes(12).toString("hex")}`;
}

/** Wraps messages and statuses in one WhatsApp Cloud API change. */
function metaEnvelope(value: Json): Json {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "100000000000001",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550000002" },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

function metaMessage(fields: Json): Json {
  return { from: "15550000001", id: newWamid(), timestamp: "1", ...fields };
}

const MESSAGE_PATH = "entry[0].changes[0].value.messages[0]";

test("meta non-string text body returns 400", async () => {
  const cases: [unknown, string][] = [
    [42, `${MESSAGE_PATH}.text.body must be a string, got number`],
    [{ value: "hi" }, `${MESSAGE_PATH}.text.body must be a string, got object`],
    [["hi"], `${MESSAGE_PATH}.text.body must be a string, got array`],
    [false, `${MESSAGE_PATH}.text.body must be a string, got boolean`],
  ];
  for (const [textBody, message] of cases) {
    const inbound = metaMessage({ type: "text", text: { body: textBody } });
    const { response, requestId } = await sendMeta(
      metaEnvelope({ messages: [inbound] }),
    );
    expect(response.status, message).toBe(400);
    const errorBody = JSON.parse(response.body);
    expect(errorBody.error, message).toBe("invalid_payload");
    expect(errorBody.message).toBe(message);
    expect(errorBody.issues, message).toEqual([
      { path: `${MESSAGE_PATH}.text.body`, message },
    ]);
    const dedupKey = `meta:${String(inbound.id)}`;
    expect(await messageCount("dedup_key = $1", [dedupKey]), message).toBe(0);
    const record = await waitForRequestRecord(db.pool, requestId);
    expect(record.outcome, message).toBe("invalid");
  }
});

test("meta text without body returns 400", async () => {
  const cases: [Json, string][] = [
    [{ type: "text" }, `${MESSAGE_PATH}.text is missing`],
    [
      { type: "text", text: "hi" },
      `${MESSAGE_PATH}.text must be an object, got string`,
    ],
    [{ type: "text", text: {} }, `${MESSAGE_PATH}.text.body is missing`],
    [
      { type: "text", text: { body: null } },
      `${MESSAGE_PATH}.text.body is missing`,
    ],
  ];
  for (const [fields, message] of cases) {
    const { response } = await sendMeta(
      metaEnvelope({ messages: [metaMessage(fields)] }),
    );
    expect(response.status, message).toBe(400);
    expect(JSON.parse(response.body).message).toBe(message);
  }
});

test("meta bad text rejects whole batch", async () => {
  const good = metaMessage({ type: "text", text: { body: "first" } });
  const bad = metaMessage({ type: "text", text: { body: 7 } });
  const { response } = await sendMeta(metaEnvelope({ messages: [good, bad] }));
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body).message).toBe(
    "entry[0].changes[0].value.messages[1].text.body must be a string, got number",
  );
  const dedupKey = `meta:${String(good.id)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
});

test("meta other message types still store", async () => {
  const text = metaMessage({ type: "text", text: { body: "" } });
  const image = metaMessage({
    type: "image",
    image: { id: "media-1", mime_type: "image/jpeg", caption: "a photo" },
  });
  const location = metaMessage({
    type: "location",
    location: { latitude: 1.5, longitude: 2.5, name: "Office" },
  });
  const reaction = metaMessage({
    type: "reaction",
    reaction: { message_id: newWamid(), emoji: "👍" },
  });
  const { response } = await sendMeta(
    metaEnvelope({ messages: [text, image, location, reaction] }),
  );
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body).accepted).toBe(4);
  const expected: [Json, string][] = [
    [text, ""],
    [image, "a photo"],
    [location, "Office, (1.5, 2.5)"],
    [reaction, "[reaction]"],
  ];
  for (const [message, preview] of expected) {
    const { rows } = await db.pool.query(
      "SELECT text_preview FROM message WHERE dedup_key = $1",
      [`meta:${String(message.id)}`],
    );
    expect(rows, preview).toHaveLength(1);
    expect(rows[0].text_preview).toBe(preview);
  }
});

test("meta status update still stores", async () => {
  const id = newWamid();
  const { response } = await sendMeta(
    metaEnvelope({
      statuses: [{ id, status: "delivered", recipient_id: "15550000001" }],
    }),
  );
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body).statusEvents).toBe(1);
  const { rows } = await db.pool.query(
    "SELECT status FROM status_event WHERE external_message_id = $1",
    [id],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].status).toBe("delivered");
});

function sendPostmarkText(text: string) {
  return send(signPostmark(Buffer.from(text), secrets.POSTMARK_BASIC_AUTH));
}

test("meta unstorable text rejects whole batch", async () => {
  const good = metaMessage({ type: "text", text: { body: "first" } });
  const bad = metaMessage({ type: "text", text: { body: "a\u0000b" } });
  const { response, requestId } = await sendMeta(
    metaEnvelope({ messages: [good, bad] }),
  );
  expect(response.status).toBe(400);
  const path = "entry[0].changes[0].value.messages[1].text.body";
  const message = `${path} contains a NUL character (\\u0000), which cannot be stored; remove it`;
  const errorBody = JSON.parse(response.body);
  expect(errorBody.message).toBe(message);
  expect(errorBody.issues).toEqual([{ path, message }]);
  for (const sent of [good, bad]) {
    const dedupKey = `meta:${String(sent.id)}`;
    expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
  }
  const record = await waitForRequestRecord(db.pool, requestId);
  expect(record.outcome).toBe("invalid");
  expect(record.error_message).toBe(message);
});

test("postmark lone surrogate names field", async () => {
  const body = postmarkBody({ Subject: "broken \uD800 subject" });
  const { response } = await sendPostmark(body);
  expect(response.status).toBe(400);
  const errorBody = JSON.parse(response.body);
  expect(errorBody.issues).toHaveLength(1);
  expect(errorBody.issues[0].path).toBe("Subject");
  expect(errorBody.message).toMatch(
    /^Subject contains a lone UTF-16 surrogate/,
  );
  const dedupKey = `postmark:${String(body.MessageID)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
});

test("postmark infinite number returns 400", async () => {
  const body = postmarkBody({ SpamScore: "PLACEHOLDER" });
  const text = JSON.stringify(body).replace('"PLACEHOLDER"', "1e400");
  const { response } = await sendPostmarkText(text);
  expect(response.status).toBe(400);
  const errorBody = JSON.parse(response.body);
  expect(errorBody.issues).toHaveLength(1);
  expect(errorBody.issues[0].path).toBe("SpamScore");
  expect(errorBody.message).toMatch(/^SpamScore is a number too large/);
  const dedupKey = `postmark:${String(body.MessageID)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
});

test("postmark long message id stores once", async () => {
  const messageId = `long-${randomBytes(2000).toString("hex")}`;
  const body = postmarkBody({ MessageID: messageId });
  const first = await sendPostmark(body);
  expect(first.response.status).toBe(200);
  const retry = await sendPostmark(body);
  expect(retry.response.status).toBe(200);
  const { rows } = await db.pool.query<{ dedup_key: string }>(
    "SELECT dedup_key FROM message WHERE external_id = $1",
    [messageId],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/);
  const record = await waitForRequestRecord(db.pool, retry.requestId);
  expect(record.outcome).toBe("duplicate");
});

test("meta long ids link status", async () => {
  const id = `wamid.${randomBytes(1500).toString("hex")}`;
  const inbound = metaMessage({ id, type: "text", text: { body: "long id" } });
  const { response } = await sendMeta(metaEnvelope({ messages: [inbound] }));
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body).accepted).toBe(1);
  const { rows: messages } = await db.pool.query<{ id: string }>(
    "SELECT id FROM message WHERE external_id = $1",
    [id],
  );
  expect(messages).toHaveLength(1);

  const status = await sendMeta(
    metaEnvelope({
      statuses: [{ id, status: "read", recipient_id: "15550000001" }],
    }),
  );
  expect(status.response.status).toBe(200);
  expect(JSON.parse(status.response.body).statusEvents).toBe(1);
  const { rows: events } = await db.pool.query<{ message_id: string }>(
    "SELECT message_id FROM status_event WHERE payload->'status'->>'id' = $1",
    [id],
  );
  expect(events).toHaveLength(1);
  expect(events[0].message_id).toBe(messages[0].id);
});

test("postmark invalid json escape names root", async () => {
  const { response } = await sendPostmarkText('{"MessageID": "\\x"}');
  expect(response.status).toBe(400);
  const errorBody = JSON.parse(response.body);
  expect(errorBody.issues[0].path).toBe("(root)");
  expect(errorBody.message).toMatch(/^Body is not valid UTF-8 JSON/);
});

test("meta wrong structure types name type", async () => {
  const VALUE_PATH = "entry[0].changes[0].value";
  const cases: [Json, string][] = [
    [
      metaEnvelope({ messages: [metaMessage({ id: 5 })] }),
      `${MESSAGE_PATH}.id must be a string, got number`,
    ],
    [
      metaEnvelope({ messages: [metaMessage({ from: 15550000001 })] }),
      `${MESSAGE_PATH}.from must be a string, got number`,
    ],
    [
      metaEnvelope({ statuses: [{ id: newWamid(), status: 3 }] }),
      `${VALUE_PATH}.statuses[0].status must be a string, got number`,
    ],
    [
      metaEnvelope({ statuses: [{ id: ["x"], status: "read" }] }),
      `${VALUE_PATH}.statuses[0].id must be a string, got array`,
    ],
    [
      { object: "whatsapp_business_account", entry: {} },
      "entry must be an array, got object",
    ],
    [
      { object: "whatsapp_business_account", entry: [5] },
      "entry[0] must be an object, got number",
    ],
    [
      { object: "whatsapp_business_account", entry: [{ changes: "x" }] },
      "entry[0].changes must be an array, got string",
    ],
    [
      { object: "whatsapp_business_account", entry: [{ changes: [7] }] },
      "entry[0].changes[0] must be an object, got number",
    ],
    [
      {
        object: "whatsapp_business_account",
        entry: [{ changes: [{ field: "messages", value: "x" }] }],
      },
      `${VALUE_PATH} must be an object, got string`,
    ],
    [
      {
        object: "whatsapp_business_account",
        entry: [{ changes: [{ field: "messages" }] }],
      },
      `${VALUE_PATH} is missing`,
    ],
    [
      metaEnvelope({ messages: {} }),
      `${VALUE_PATH}.messages must be an array, got object`,
    ],
    [
      metaEnvelope({ messages: ["hi"] }),
      `${MESSAGE_PATH} must be an object, got string`,
    ],
  ];
  for (const [body, message] of cases) {
    const { response, requestId } = await sendMeta(body);
    expect(response.status, message).toBe(400);
    const errorBody = JSON.parse(response.body);
    expect(errorBody.message).toBe(message);
    expect(errorBody.issues, message).toHaveLength(1);
    const record = await waitForRequestRecord(db.pool, requestId);
    expect(record.outcome, message).toBe("invalid");
  }
});

test("non-utf-8 json charset returns 415", async () => {
  const cases: [string, number][] = [
    ["application/json; charset=iso-8859-1", 415],
    ['application/json; charset="windows-1252"', 415],
    ["application/json; charset=UTF-8", 200],
    ["application/json;charset=utf8", 200],
    ["application/json; charset", 200],
  ];
  for (const [contentType, status] of cases) {
    const body = postmarkBody({ Subject: "Café" });
    const request = signPostmark(toBody(body), secrets.POSTMARK_BASIC_AUTH);
    const { response } = await send({
      ...request,
      headers: { ...request.headers, "content-type": contentType },
    });
    expect(response.status, contentType).toBe(status);
    const dedupKey = `postmark:${String(body.MessageID)}`;
    expect(await messageCount("dedup_key = $1", [dedupKey]), contentType).toBe(
      status === 200 ? 1 : 0,
    );
    if (status === 415) {
      expect(JSON.parse(response.body).message, contentType).toMatch(
        /^Content-Type charset must be utf-8, got "(iso-8859-1|windows-1252)"/,
      );
    }
  }
});

test("short-exponent infinity returns 400", async () => {
  const body = postmarkBody({ SpamScore: "PLACEHOLDER" });
  const text = JSON.stringify(body).replace(
    '"PLACEHOLDER"',
    `1${"0".repeat(210)}e99`,
  );
  const { response } = await sendPostmarkText(text);
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body).issues[0].path).toBe("SpamScore");
  const dedupKey = `postmark:${String(body.MessageID)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
});

test("meta deep nesting rejects whole batch", async () => {
  const good = metaMessage({ type: "text", text: { body: "first" } });
  const bad = metaMessage({ type: "text", text: { body: "second" } });
  const text = JSON.stringify(
    metaEnvelope({ messages: [good, { ...bad, context: "PLACEHOLDER" }] }),
  ).replace('"PLACEHOLDER"', `${"[".repeat(5000)}${"]".repeat(5000)}`);
  const { response } = await send(
    signMeta(Buffer.from(text), secrets.META_APP_SECRET),
  );
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body).message).toMatch(
    /^JSON nests deeper than 64 levels/,
  );
  for (const sent of [good, bad]) {
    const dedupKey = `meta:${String(sent.id)}`;
    expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
  }
});

test("long status values return 400", async () => {
  const longStatus = "x".repeat(3000);
  const inbound = metaMessage({ type: "text", text: { body: "kept out" } });
  const meta = await sendMeta(
    metaEnvelope({
      messages: [inbound],
      statuses: [{ id: newWamid(), status: longStatus }],
    }),
  );
  expect(meta.response.status).toBe(400);
  expect(JSON.parse(meta.response.body).message).toBe(
    "entry[0].changes[0].value.statuses[0].status must be at most 64 characters, got 3000",
  );
  const dedupKey = `meta:${String(inbound.id)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);

  const resend = await sendResend(
    resendBody({}, `email.${longStatus}`) as Json,
  );
  expect(resend.response.status).toBe(400);
  expect(JSON.parse(resend.response.body).message).toBe(
    "type must be at most 64 characters, got 3000",
  );
});

test("malformed content type checks charset", async () => {
  for (const contentType of [
    "application/json; charset=latin1;",
    "application/json;; charset=utf-16",
  ]) {
    const body = postmarkBody();
    const request = signPostmark(toBody(body), secrets.POSTMARK_BASIC_AUTH);
    const { response } = await send({
      ...request,
      headers: { ...request.headers, "content-type": contentType },
    });
    expect(response.status, contentType).toBe(415);
  }
});

test("non-object json body names its type", async () => {
  const cases: [string, string][] = [
    ["[]", "Body must be a JSON object, got array"],
    ["null", "Body must be a JSON object, got null"],
    ['"text"', "Body must be a JSON object, got string"],
  ];
  for (const [text, message] of cases) {
    const postmark = await sendPostmarkText(text);
    expect(postmark.response.status, text).toBe(400);
    expect(JSON.parse(postmark.response.body).message, text).toBe(message);
    const meta = await send(
      signMeta(Buffer.from(text), secrets.META_APP_SECRET),
    );
    expect(meta.response.status, text).toBe(400);
    expect(JSON.parse(meta.response.body).message, text).toBe(message);
  }
});

test("gzip provider body returns 415", async () => {
  const body = postmarkBody();
  const request = signPostmark(toBody(body), secrets.POSTMARK_BASIC_AUTH);
  const { response } = await send({
    ...request,
    headers: { ...request.headers, "content-encoding": "gzip" },
  });
  expect(response.status).toBe(415);
  expect(response.headers["accept-encoding"]).toBe("identity");
  expect(JSON.parse(response.body).error).toBe("unsupported_content_encoding");
  const dedupKey = `postmark:${String(body.MessageID)}`;
  expect(await messageCount("dedup_key = $1", [dedupKey])).toBe(0);
});
