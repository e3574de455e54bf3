/**
 * Mailgun inbound routes. Mailgun signs only `timestamp + token` (hex
 * HMAC-SHA256 with the webhook signing key), not the body, so a captured
 * request could be re-sent with another body. Two checks close that:
 *
 * - the timestamp must be at most MAX_TIMESTAMP_AGE_SECONDS old, and
 * - each token is bound, in table mailgun_token, to the dedup key of the
 *   message it first arrived with.
 *
 * Order: verify the signature, parse the message, claim the token for the
 * message's dedup key, then store. A Mailgun retry re-sends the same token
 * with the same Message-Id, so the claim finds its own key and the store
 * returns 2xx as a duplicate, or stores the message if the first attempt
 * failed before storing. A token reused with another Message-Id is a replay
 * and gets 406, the code that stops Mailgun from retrying. Tokens are kept
 * longer than the timestamp window, so a purged token is also too old.
 */
import type pg from "pg";
import { mediaType, readBody } from "../body.server";
import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult } from "../http";
import type { MediaItem, NormalizedMessage } from "../message";
import { selectHeaders } from "../request-headers.server";
import {
  acknowledgement,
  emailAddressOf,
  hmac,
  checkStorablePayload,
  invalidFieldResult,
  parseForm,
  rejected,
  rejectionResult,
  replayOfId,
  requireField,
  safeEqual,
  storeDelivery,
  unconfiguredResult,
  unsupportedMediaType,
  VERIFIED,
  type Verification,
} from "./common.server";
import { parseMultipart, type MultipartFile } from "./multipart.server";
import { logger } from "~/logger.server";

/** The status for a rejected signature, because Mailgun stops retrying on 406. */
export const MAILGUN_REJECT_STATUS = 406;

/** Mailgun retries for 8 hours; older timestamps are rejected. */
export const MAX_TIMESTAMP_AGE_SECONDS = 24 * 60 * 60;
/** Clock skew allowed for a timestamp in the future. */
export const MAX_TIMESTAMP_SKEW_SECONDS = 5 * 60;
/** Days a seen token is kept; longer than the timestamp window. */
export const TOKEN_RETENTION_DAYS = 3;

const FORM_TYPE = "application/x-www-form-urlencoded";
const MULTIPART_TYPE = "multipart/form-data";

/** Computes the hex signature Mailgun sends for `timestamp` and `token`. */
export function mailgunSignature(
  signingKey: string,
  timestamp: string,
  token: string,
): string {
  return hmac("sha256", signingKey, timestamp + token).toString("hex");
}

interface MailgunFields {
  get: (name: string) => string | undefined;
  entries: [string, string][];
  files: MultipartFile[];
}

export function verifyMailgunSignature(
  signingKey: string,
  fields: Pick<MailgunFields, "get">,
  now: Date,
): Verification {
  const timestamp = fields.get("timestamp");
  const token = fields.get("token");
  const signature = fields.get("signature");
  const status = MAILGUN_REJECT_STATUS;
  if (!timestamp) return rejected("timestamp is missing", status);
  if (!token) return rejected("token is missing", status);
  if (!signature) return rejected("signature is missing", status);
  if (!/^\d{1,15}$/.test(timestamp)) {
    return rejected("timestamp must be Unix seconds", status);
  }
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > MAX_TIMESTAMP_AGE_SECONDS) {
    return rejected(
      `timestamp is ${age} seconds old; at most ${MAX_TIMESTAMP_AGE_SECONDS} seconds are allowed`,
      status,
    );
  }
  if (age < -MAX_TIMESTAMP_SKEW_SECONDS) {
    return rejected(
      `timestamp is ${-age} seconds in the future; check the server clock`,
      status,
    );
  }
  const expected = mailgunSignature(signingKey, timestamp, token);
  if (!safeEqual(expected, signature.toLowerCase())) {
    return rejected(
      "signature does not match timestamp and token. Check MAILGUN_WEBHOOK_SIGNING_KEY.",
      status,
    );
  }
  return VERIFIED;
}

async function readFields(
  request: InboundRequest,
  body: Buffer,
  keepFileBytes: number,
): Promise<MailgunFields> {
  const contentType = request.header("content-type") ?? "";
  if (mediaType(contentType) === MULTIPART_TYPE) {
    const multipart = await parseMultipart(body, contentType, keepFileBytes);
    const entries = multipart.fields.map(
      (item) => [item.name, item.value.toString("utf8")] as [string, string],
    );
    return {
      get: (name) => entries.find(([key]) => key === name)?.[1],
      entries,
      files: multipart.files,
    };
  }
  const form = parseForm(body);
  return {
    get: (name) => form.get(name) ?? undefined,
    entries: [...form],
    files: [],
  };
}

function attachmentsOf(files: MultipartFile[]): MediaItem[] {
  return files.map((file) => {
    const item: MediaItem = {
      name: file.filename,
      contentType: file.contentType,
      size: file.size,
    };
    if (file.data) item.contentBase64 = file.data.toString("base64");
    return item;
  });
}

/** Maps a Mailgun route post to the common shape. */
export function mailgunMessage(
  fields: MailgunFields,
  body: Buffer,
  request: InboundRequest,
): NormalizedMessage {
  const messageId = requireField(fields.get("Message-Id"), "Message-Id");
  const sender = requireField(
    fields.get("sender") ?? fields.get("from"),
    "sender",
  );
  const recipient = requireField(fields.get("recipient"), "recipient");
  const payload: Record<string, string> = {};
  for (const [name, value] of fields.entries) {
    // The signature fields are credentials of this one delivery.
    if (name !== "signature" && name !== "token") payload[name] = value;
  }
  checkStorablePayload(payload);
  return {
    channel: "email",
    provider: "mailgun",
    dedupKey: `mailgun:${messageId}`,
    dedupKind: "id",
    externalId: messageId,
    sender: emailAddressOf(sender),
    recipient,
    subject: fields.get("subject") ?? fields.get("Subject") ?? null,
    text: fields.get("body-plain") ?? fields.get("stripped-text") ?? "",
    payload,
    rawBody: body,
    headers: selectHeaders(request),
    media: attachmentsOf(fields.files),
    replayOfId: replayOfId(request),
  };
}

const CLAIM_TOKEN = `
INSERT INTO mailgun_token (token, dedup_key) VALUES ($1, $2)
ON CONFLICT (token) DO NOTHING
RETURNING token`;

/**
 * Binds `token` to `dedupKey` on first use. Returns true when the token is
 * new or was first seen with the same message, false for a replay.
 */
export async function claimMailgunToken(
  pool: pg.Pool,
  token: string,
  dedupKey: string,
): Promise<boolean> {
  const claimed = await pool.query(CLAIM_TOKEN, [token, dedupKey]);
  if (claimed.rows.length > 0) return true;
  const { rows } = await pool.query<{ dedup_key: string }>(
    "SELECT dedup_key FROM mailgun_token WHERE token = $1",
    [token],
  );
  return rows[0]?.dedup_key === dedupKey;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
let lastPurgeAt = 0;

/** Deletes expired tokens, at most once an hour per process. */
async function purgeExpiredTokens(pool: pg.Pool): Promise<void> {
  if (Date.now() - lastPurgeAt < PURGE_INTERVAL_MS) return;
  lastPurgeAt = Date.now();
  try {
    const { rowCount } = await pool.query(
      "DELETE FROM mailgun_token WHERE seen_at < now() - $1::int * interval '1 day'",
      [TOKEN_RETENTION_DAYS],
    );
    logger.info({ deleted: rowCount }, "purged expired Mailgun tokens");
  } catch (error) {
    logger.error({ err: error }, "purging Mailgun tokens failed");
  }
}

/** Handles POST /api/webhooks/mailgun/email. */
export async function handleMailgun(
  request: InboundRequest,
  context: IngestContext,
): Promise<IngestResult> {
  const signingKey = context.env.MAILGUN_WEBHOOK_SIGNING_KEY;
  if (signingKey === undefined) {
    const unconfigured = unconfiguredResult(
      "mailgun",
      "email",
      request,
      context.env,
    );
    if (unconfigured) return unconfigured;
  }
  const unsupported = unsupportedMediaType(
    request,
    [FORM_TYPE, MULTIPART_TYPE],
    "mailgun",
    "email",
  );
  if (unsupported) return unsupported;
  const body = await readBody(
    request.body,
    context.env.BODY_LIMIT_BYTES,
    request.header("content-length"),
  );
  let fields: MailgunFields;
  try {
    fields = await readFields(request, body, context.env.ATTACHMENT_MAX_BYTES);
  } catch (error) {
    return invalidFieldResult(error, "mailgun", "email", body);
  }
  if (signingKey !== undefined) {
    const verification = verifyMailgunSignature(
      signingKey,
      fields,
      context.now(),
    );
    if (!verification.ok) {
      return rejectionResult(verification, "mailgun", "email", body, request);
    }
  }
  let message: NormalizedMessage;
  try {
    message = mailgunMessage(fields, body, request);
  } catch (error) {
    return invalidFieldResult(error, "mailgun", "email", body);
  }
  const token = fields.get("token");
  if (signingKey !== undefined && token !== undefined) {
    void purgeExpiredTokens(context.pool);
    const fresh = await claimMailgunToken(
      context.pool,
      token,
      message.dedupKey,
    );
    if (!fresh) {
      return rejectionResult(
        rejected(
          "token was already used for another message; the request is a replay",
          MAILGUN_REJECT_STATUS,
        ),
        "mailgun",
        "email",
        body,
        request,
      );
    }
  }
  const entries = await storeDelivery(
    { messages: [message], statuses: [] },
    context,
  );
  return acknowledgement("mailgun", entries, context.env);
}
