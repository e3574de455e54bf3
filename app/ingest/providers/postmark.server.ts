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
  parseJsonBody,
  rejected,
  rejectionResult,
  replayOfId,
  safeEqual,
  storeDelivery,
  unsupportedMediaType,
  VERIFIED,
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

function stringField(json: Json, name: string): string {
  const value = json[name];
  if (typeof value !== "string" || value === "") {
    throw new InvalidFieldError(name, `${name} is missing`);
  }
  return value;
}

function optionalString(json: Json, name: string): string | null {
  const value = json[name];
  return typeof value === "string" ? value : null;
}

/**
 * Maps Postmark's Attachments[] to media metadata, keeping the base64
 * content only for attachments of at most `maxBytes`.
 */
function attachmentsOf(json: Json, maxBytes: number): MediaItem[] {
  const list = json.Attachments ?? [];
  if (!Array.isArray(list)) {
    throw new InvalidFieldError("Attachments", "Attachments must be an array");
  }
  return list.map((attachment, i) => {
    if (!isObject(attachment)) {
      throw new InvalidFieldError(
        `Attachments[${i}]`,
        `Attachments[${i}] must be an object`,
      );
    }
    const content =
      typeof attachment.Content === "string" ? attachment.Content : "";
    const size = Buffer.from(content, "base64").length;
    const item: MediaItem = { size };
    if (typeof attachment.Name === "string") item.name = attachment.Name;
    if (typeof attachment.ContentType === "string")
      item.contentType = attachment.ContentType;
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
    throw new InvalidFieldError("(root)", "Body must be a JSON object");
  }
  const id = stringField(json, "MessageID");
  const fromFull = isObject(json.FromFull) ? json.FromFull : {};
  const sender =
    typeof fromFull.Email === "string"
      ? fromFull.Email
      : emailAddressOf(stringField(json, "From"));
  const toFull = Array.isArray(json.ToFull) ? json.ToFull.filter(isObject) : [];
  const recipient =
    toFull.length > 0
      ? toFull.map((to) => String(to.Email)).join(", ")
      : emailAddressOf(stringField(json, "To"));
  return {
    channel: "email",
    provider: "postmark",
    dedupKey: `postmark:${id}`,
    dedupKind: "id",
    externalId: id,
    sender,
    recipient,
    subject: optionalString(json, "Subject"),
    text: optionalString(json, "TextBody") ?? "",
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
