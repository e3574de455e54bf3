import { data } from "@remix-run/node";
import { z } from "zod";
import { getApp } from "~/boot.server";
import { logger } from "~/logger.server";
import { getLoginRateLimiter } from "./bootstrap.server";
import { PASSWORD_MAX_LENGTH } from "./password.server";
import { safeRedirectPath } from "./redirect";
import { createUserSession } from "./session.server";
import { authenticate, normalizeEmail } from "./users.server";

export const loginSchema = z.object({
  email: z
    .string("Enter your email address.")
    .trim()
    .min(1, "Enter your email address.")
    .max(254, "An email address has at most 254 characters.")
    .pipe(z.email("Enter a valid email address, such as ana@example.com.")),
  password: z
    .string("Enter your password.")
    .min(1, "Enter your password.")
    .max(
      PASSWORD_MAX_LENGTH,
      `A password has at most ${PASSWORD_MAX_LENGTH} characters.`,
    ),
});

export interface LoginActionData {
  email: string;
  fieldErrors: { email?: string; password?: string };
  formError?: string;
}

/**
 * Returns the client address for rate limiting: the first X-Forwarded-For entry
 * when TRUST_PROXY is on, else the socket's peer address.
 */
export function clientIpOf(
  request: Request,
  clientAddress: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = request.headers
      .get("x-forwarded-for")
      ?.split(",")[0]
      .trim();
    if (forwarded) return forwarded;
  }
  return clientAddress ?? "unknown";
}

/**
 * Handles a POST to /login: validates the form, counts the attempt against
 * the rate limits, checks the password and starts a session.
 */
export async function handleLogin(
  request: Request,
  clientAddress: string | undefined,
) {
  const app = await getApp();
  const form = await request.formData();
  const redirectTo = safeRedirectPath(form.get("redirectTo"));
  const typedEmail =
    typeof form.get("email") === "string" ? String(form.get("email")) : "";

  const parsed = loginSchema.safeParse({
    email: form.get("email"),
    password: form.get("password"),
  });
  if (!parsed.success) {
    const fieldErrors: LoginActionData["fieldErrors"] = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if ((field === "email" || field === "password") && !fieldErrors[field]) {
        fieldErrors[field] = issue.message;
      }
    }
    return data<LoginActionData>(
      { email: typedEmail, fieldErrors },
      { status: 400 },
    );
  }

  const email = normalizeEmail(parsed.data.email);
  const ip = clientIpOf(request, clientAddress, app.env.TRUST_PROXY);
  const waitSeconds = await getLoginRateLimiter().consume(ip, email);
  if (waitSeconds !== null) {
    logger.warn({ ip, email }, "login rate limit reached");
    const minutes = Math.ceil(waitSeconds / 60);
    return data<LoginActionData>(
      {
        email: typedEmail,
        fieldErrors: {},
        formError: `Too many login attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
      },
      { status: 429, headers: { "Retry-After": String(waitSeconds) } },
    );
  }

  const user = await authenticate(app.prisma, email, parsed.data.password);
  if (!user) {
    logger.info({ ip, email }, "login failed: wrong email or password");
    return data<LoginActionData>(
      {
        email: typedEmail,
        fieldErrors: {},
        formError: "The email or password is wrong. Check both and try again.",
      },
      { status: 401 },
    );
  }

  await getLoginRateLimiter().reset(email);
  logger.info({ userId: user.id, email: user.email, ip }, "login succeeded");
  return createUserSession(request, app.env, user, redirectTo);
}
