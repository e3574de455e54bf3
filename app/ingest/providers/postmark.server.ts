/**
 * Postmark inbound webhooks. Postmark does not sign its posts; the URL
 * carries HTTP basic auth credentials instead, checked here against
 * POSTMARK_BASIC_AUTH (`user:password`) in constant time.
 */
import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult } from "../http";
import type { MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  acknowledgement,
  emailAddressOf,
  InvalidFieldError,
  invalidFieldResult,
  jsonTypeOf,
  optionalJsonArray,
  optionalJsonObject,
  optionalJsonString,
  parseJsonBody,
  rejected,
  rejectionResult,
  replayOfId,
  requireJsonString,
  safeEqual,
  storeDelivery,
  unsupportedMediaType,
  VERIFIED,
  wrongTypeError,
  type Verification,
  readProviderBody,
} from "./common.server";

/** Builds the Authorization header value for `credentials` (`user:password`). */
export function basicAuthorization(credentials: string): string {
  return `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
}

export function verifyBasicAuth(
  credentials: string,
  header: string | undefined,
): Verification {
  if (header === undefined) {
    return rejected(
      "Authorization header is missing; put the POSTMARK_BASIC_AUTH credentials in the webhook URL as https://user:password@host/...",
    );
  }
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const given = match ? Buffer.from(match[1], "base64") : Buffer.alloc(0);
  if (!safeEqual(given, Buffer.from(credentials, "utf8"))) {
    return rejected("Basic auth credentials do not match POSTMARK_BASIC_AUTH.");
  }
  return VERIFIED;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Returns the sender: FromFull.Email when it is set, else the address in
 * From. Raises InvalidFieldError when either field has the wrong type, even
 * when the other one is used.
 */
function senderOf(json: Json): string {
  const fromFull = optionalJsonObject(json.FromFull, "FromFull");
  const email = optionalJsonString(fromFull?.Email, "FromFull.Email");
  const from = optionalJsonString(json.From, "From");
  if (email !== null && email !== "") return email;
  return emailAddressOf(requireJsonString(from, "From"));
}

/**
 * Returns the recipients: every ToFull[].Email when ToFull is not empty,
 * else the address in To. Raises InvalidFieldError when either field has the
 * wrong type, even when the other one is used.
 */
function recipientOf(json: Json): string {
  const toFull = optionalJsonArray(json.ToFull, "ToFull");
  const to = optionalJsonString(json.To, "To");
  if (toFull.length === 0) {
    return emailAddressOf(requireJsonString(to, "To"));
  }
  return toFull
    .map((item, i) => {
      if (!isObject(item)) {
        throw wrongTypeError(`ToFull[${i}]`, "an object", item);
      }
      return requireJsonString(item.Email, `ToFull[${i}].Email`);
    })
    .join(", ");
}

/**
 * Maps Postmark's Attachments[] to media metadata, keeping the base64
 * content only for attachments of at most `maxBytes`.
 */
function attachmentsOf(json: Json, maxBytes: number): MediaItem[] {
  const list = optionalJsonArray(json.Attachments, "Attachments");
  return list.map((attachment, i) => {
    const path = `Attachments[${i}]`;
    if (!isObject(attachment)) {
      throw wrongTypeError(path, "an object", attachment);
    }
    const content =
      optionalJsonString(attachment.Content, `${path}.Content`) ?? "";
    const name = optionalJsonString(attachment.Name, `${path}.Name`);
    const contentType = optionalJsonString(
      attachment.ContentType,
      `${path}.ContentType`,
    );
    const size = Buffer.from(content, "base64").length;
    const item: MediaItem = { size };
    if (name !== null) item.name = name;
    if (contentType !== null) item.contentType = contentType;
    if (content !== "" && size <= maxBytes) item.contentBase64 = content;
    return item;
  });
}

/** Drops attachment bytes from the payload, because `media` keeps them. */
function payloadOf(json: Json): Json {
  if (!Array.isArray(json.Attachments)) return json;
  return {
    ...json,
    Attachments: json.Attachments.map((attachment) =>
      isObject(attachment) ? { ...attachment, Content: undefined } : attachment,
    ),
  };
}

/** Maps a Postmark inbound JSON body to the common shape. */
export function postmarkMessage(
  json: unknown,
  body: Buffer,
  request: InboundRequest,
  attachmentMaxBytes: number,
): NormalizedMessage {
  if (!isObject(json)) {
    throw new InvalidFieldError(
      "(root)",
      `Body must be a JSON object, got ${jsonTypeOf(json)}`,
    );
  }
  const id = requireJsonString(json.MessageID, "MessageID");
  const sender = senderOf(json);
  const recipient = recipientOf(json);
  return {
    channel: "email",
    provider: "postmark",
    dedupKey: `postmark:${id}`,
    dedupKind: "id",
    externalId: id,
    sender,
    recipient,
    subject: optionalJsonString(json.Subject, "Subject"),
    text: optionalJsonString(json.TextBody, "TextBody") ?? "",
    payload: payloadOf(json),
    rawBody: body,
    headers: selectHeaders(request),
    media: attachmentsOf(json, attachmentMaxBytes),
    replayOfId: replayOfId(request),
  };
}

/** Handles POST /api/webhooks/postmark/email. */
export async function handlePostmark(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const credentials = context.env.POSTMARK_BASIC_AUTH;
  const read = await readProviderBody(
    request,
    context,
    "postmark",
    "email",
    credentials,
  );
  if (!Buffer.isBuffer(read)) return read;
  const body = read;
  if (credentials !== undefined) {
    const verification = verifyBasicAuth(
      credentials,
      request.header("authorization"),
    );
    if (!verification.ok) {
      const result = rejectionResult(
        verification,
        "postmark",
        "email",
        body,
        request,
      );
      return {
        ...result,
        headers: {
          ...result.headers,
          "www-authenticate": 'Basic realm="postmark", charset="UTF-8"',
        },
      };
    }
  }
  const unsupported = unsupportedMediaType(
    request,
    ["application/json"],
    "postmark",
    "email",
  );
  if (unsupported) return unsupported;
  let message: NormalizedMessage;
  try {
    message = postmarkMessage(
      parseJsonBody(body),
      body,
      request,
      context.env.ATTACHMENT_MAX_BYTES,
    );
  } catch (error) {
    return invalidFieldResult(error, "postmark", "email", body);
  }
  const entries = await storeDelivery(
    { messages: [message], statuses: [] },
    context,
  );
  return acknowledgement("postmark", entries, context.env);
}
