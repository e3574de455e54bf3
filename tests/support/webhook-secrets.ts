import { generateKeyPairSync, randomBytes } from "node:crypto";

/**
 * Provider secrets for a test server, so every provider route verifies
 * signatures instead of responding 503 for a missing secret. Values are
 * random per test run and have the format each variable requires.
 */
export function testWebhookSecrets(): Record<string, string> {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    TWILIO_AUTH_TOKEN: randomBytes(16).toString("hex"),
    META_VERIFY_TOKEN: randomBytes(12).toString("hex"),
    META_APP_SECRET: randomBytes(16).toString("hex"),
    SENDGRID_VERIFICATION_KEY: publicKey
      .export({ type: "spki", format: "der" })
      .toString("base64"),
    MAILGUN_WEBHOOK_SIGNING_KEY: randomBytes(16).toString("hex"),
    POSTMARK_BASIC_AUTH: `postmark:${randomBytes(12).toString("hex")}`,
    RESEND_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
  };
}
