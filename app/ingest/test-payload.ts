import { z } from "zod";

// A missing field reads "is required" instead of zod's type message.
z.config({
  customError: (issue) =>
    issue.code === "invalid_type" && issue.input === undefined
      ? "is required"
      : undefined,
});

/**
 * The JSON accepted by POST /api/webhooks/test-multichannel, discriminated on
 * `channel`. The test-send forms in the dashboard validate with the same
 * schema before they send.
 */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;
export const SMS_MAX_LENGTH = 1600;

const e164 = z
  .string()
  .regex(E164_PATTERN, "must be an E.164 number such as +14155550100");
const address = z.email("must be an email address such as ana@example.com");
const messageId = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(256, "must be at most 256 characters")
  .optional();

export const emailPayloadSchema = z
  .object({
    channel: z.literal("email"),
    from: address,
    to: z.union(
      [address, z.array(address).min(1, "must list at least one address")],
      {
        // When neither a string nor an array was sent, zod's own message
        // for the union is "Invalid input", even when `to` is missing.
        error: (issue) => {
          if (issue.code !== "invalid_union") return undefined;
          if (issue.input === undefined) return "is required";
          // An array with a non-string item fails both options as a whole,
          // so the item is named in the message.
          if (Array.isArray(issue.input)) {
            const index = issue.input.findIndex(
              (item) => typeof item !== "string",
            );
            if (index >= 0) {
              const item: unknown = issue.input[index];
              const type = item === null ? "null" : typeof item;
              return `must list email addresses as strings; item ${index} is ${type}`;
            }
          }
          return "must be an email address or an array of email addresses";
        },
      },
    ),
    subject: z.string().max(998, "must be at most 998 characters"),
    text: z.string().optional(),
    html: z.string().optional(),
    messageId,
    headers: z.record(z.string(), z.string()).optional(),
  })
  .refine((value) => value.text !== undefined || value.html !== undefined, {
    message: "text or html is required",
    path: ["text"],
  });

export const whatsappPayloadSchema = z
  .object({
    channel: z.literal("whatsapp"),
    from: e164,
    to: e164,
    text: z.string().min(1, "must not be empty").max(4096).optional(),
    media: z
      .array(
        z.object({
          url: z.url({
            protocol: /^https?$/,
            error: "must be an absolute http or https URL",
          }),
          contentType: z
            .string()
            .regex(
              /^[\w.+-]+\/[\w.+-]+$/,
              "must be a MIME type such as image/jpeg",
            ),
        }),
      )
      .min(1, "must list at least one item")
      .max(10, "must list at most 10 items")
      .optional(),
    messageId,
  })
  .refine((value) => value.text !== undefined || value.media !== undefined, {
    message: "text or media is required",
    path: ["text"],
  });

export const smsPayloadSchema = z.object({
  channel: z.literal("sms"),
  from: e164,
  to: e164,
  text: z
    .string()
    .min(1, "must be 1 to 1600 characters")
    .max(SMS_MAX_LENGTH, "must be 1 to 1600 characters"),
  messageId,
});

export const testPayloadSchema = z.discriminatedUnion(
  "channel",
  [emailPayloadSchema, whatsappPayloadSchema, smsPayloadSchema],
  { error: "channel must be one of email, whatsapp, sms" },
);

export type TestPayload = z.infer<typeof testPayloadSchema>;

export interface PayloadIssue {
  path: string;
  message: string;
}

/** Formats a path such as ["media", 0, "url"] as `media[0].url`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(root)" : out;
}

export function issuesOf(error: z.ZodError): PayloadIssue[] {
  return error.issues.map((issue) => ({
    path: formatIssuePath(issue.path),
    message: issue.message,
  }));
}

/** One valid payload per channel, shown by GET and prefilled in the forms. */
export const TEST_PAYLOAD_EXAMPLES = {
  email: {
    channel: "email",
    from: "ana@example.com",
    to: ["support@example.com"],
    subject: "Order 1042 arrived damaged",
    text: "Hello, the box was crushed. Can you send a new one?",
    messageId: "email-example-0001",
  },
  whatsapp: {
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550199",
    text: "Hi! Is the store open on Sunday?",
    media: [
      { url: "https://example.com/photo.jpg", contentType: "image/jpeg" },
    ],
    messageId: "wa-example-0001",
  },
  sms: {
    channel: "sms",
    from: "+14155550100",
    to: "+14155550199",
    text: "Your code is 123456",
    messageId: "sms-example-0001",
  },
} as const satisfies Record<TestPayload["channel"], TestPayload>;
