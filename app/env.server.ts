import { z } from "zod";

const booleanString = z
  .enum(["true", "false", "1", "0"])
  .transform((value) => value === "true" || value === "1");

/**
 * The status a provider endpoint returns for a duplicate delivery. It must be
 * 2xx, because providers retry every other status.
 */
const duplicateStatus = z.coerce
  .number()
  .int()
  .min(200, "must be a 2xx status such as 200 or 204")
  .max(299, "must be a 2xx status such as 200 or 204")
  .default(200);

const optionalSecret = z
  .string()
  .trim()
  .min(1)
  .optional()
  .or(z.literal("").transform(() => undefined));

/**
 * Every environment variable the server reads. Each one is parsed once at
 * boot; a bad value stops the process with a message naming the variable.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\//,
      "must start with postgres:// or postgresql://",
    )
    .optional()
    .or(z.literal("").transform(() => undefined)),
  DATA_DIR: z.string().min(1).default("./data"),
  EMBEDDED_DB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Milliseconds a query may wait for its result before the request fails
   * with 503, so a database that hangs (rather than refusing connections)
   * does not hold requests forever.
   */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  DEDUP_WINDOW_HOURS: z.coerce.number().positive().default(24),
  REQUEST_LOG_FLUSH_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  SENTRY_DSN: z
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  SENTRY_ENVIRONMENT: z.string().optional(),
  RETENTION_DAYS: z.coerce.number().positive().default(30),
  RETENTION_INTERVAL_MINUTES: z.coerce.number().positive().default(60),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  PUBLIC_URL: z
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  TRUST_PROXY: booleanString.default(false),
  ALLOW_UNSIGNED_WEBHOOKS: booleanString.default(false),
  TWILIO_AUTH_TOKEN: optionalSecret,
  META_VERIFY_TOKEN: optionalSecret,
  META_APP_SECRET: optionalSecret,
  SENDGRID_VERIFICATION_KEY: optionalSecret,
  MAILGUN_WEBHOOK_SIGNING_KEY: optionalSecret,
  POSTMARK_BASIC_AUTH: z
    .string()
    .regex(/^[^:]+:.+$/, "must be user:password")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  RESEND_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be whsec_ followed by base64")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  DUPLICATE_STATUS_TWILIO: duplicateStatus,
  DUPLICATE_STATUS_META: duplicateStatus,
  DUPLICATE_STATUS_SENDGRID: duplicateStatus,
  DUPLICATE_STATUS_MAILGUN: duplicateStatus,
  DUPLICATE_STATUS_POSTMARK: duplicateStatus,
  DUPLICATE_STATUS_RESEND: duplicateStatus,
  /** A fixed server clock for timestamped signatures, used only in tests. */
  TEST_CLOCK_ISO: z.iso
    .datetime({ offset: true })
    .optional()
    .or(z.literal("").transform(() => undefined)),
  ATTACHMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(256 * 1024),
  SESSION_SECRET: z
    .string()
    .min(32, "must be at least 32 characters")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  ADMIN_EMAIL: z
    .email()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  ADMIN_PASSWORD: z
    .string()
    .min(12, "must be at least 12 characters")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  RATE_LIMIT_POINTS: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_DURATION_SECONDS: z.coerce.number().int().min(1).default(60),
  /** Prefix of the limiter's keys, so instances sharing a Redis can split. */
  RATE_LIMIT_KEY_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, "must be 1-64 letters, digits or _ : . -")
    .default("inbox-rl"),
  LOGIN_RATE_LIMIT_POINTS: z.coerce.number().int().min(1).default(10),
  LOGIN_RATE_LIMIT_KEY_PREFIX: z.string().min(1).default("inbox:login"),
  SESSION_MAX_AGE_HOURS: z.coerce.number().positive().max(8760).default(12),
  // Unset: the session cookie is Secure when the request came over https.
  SESSION_COOKIE_SECURE: booleanString.optional(),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      `Invalid environment:\n${problems.map((line) => `  - ${line}`).join("\n")}`,
    );
    this.name = "EnvError";
  }
}

/** Parses `source` and throws an EnvError listing every invalid variable. */
export function parseEnv(
  source: Record<string, string | undefined> = process.env,
): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".");
    // Values are not echoed because several of these variables are secrets.
    return `${name}: ${issue.message}`;
  });
  throw new EnvError(problems);
}

let cached: Env | undefined;

/** Returns the environment, parsed at first use and kept for the process. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
