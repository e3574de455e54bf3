import { data } from "@remix-run/node";
import { z } from "zod";
import type { PrismaClient } from "~/generated/prisma/client";
import { logger } from "~/logger.server";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./password.server";
import { ROLES } from "./roles";
import {
  changeRole,
  createUser,
  deleteUser,
  EmailTakenError,
  LastAdminError,
  resetPassword,
  UserNotFoundError,
} from "./users.server";

/** The forms of the Users page, distinguished by their `intent` field. */
export const USER_INTENTS = ["create", "role", "password", "delete"] as const;
export type UserIntent = (typeof USER_INTENTS)[number];

const emailField = z
  .string("Enter an email address.")
  .trim()
  .min(1, "Enter an email address.")
  .max(254, "An email address has at most 254 characters.")
  .pipe(z.email("Enter a valid email address, such as ana@example.com."));

const passwordField = z
  .string("Enter a password.")
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`);

const roleField = z.enum(ROLES, `Choose a role: ${ROLES.join(", ")}.`);

const userIdField = z.uuid(
  "The user id is missing or invalid; reload the page.",
);

const schemas = {
  create: z.object({
    email: emailField,
    role: roleField,
    password: passwordField,
  }),
  role: z.object({ userId: userIdField, role: roleField }),
  password: z.object({ userId: userIdField, password: passwordField }),
  delete: z.object({ userId: userIdField }),
} satisfies Record<UserIntent, z.ZodType>;

export interface UserActionData {
  intent: UserIntent | null;
  /** The user a row form acted on; null for the create form. */
  userId: string | null;
  fieldErrors: Record<string, string>;
  formError?: string;
  success?: string;
  /** Values of the create form, sent back so a rejected form keeps them. */
  values?: { email: string; role: string };
}

function formString(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

function reply(body: UserActionData, status = 200) {
  return data(body, { status });
}

/** Handles a POST to /users by an admin; `actorId` is that admin's id. */
export async function handleUserAction(
  prisma: PrismaClient,
  actorId: string,
  form: FormData,
) {
  const intentValue = formString(form, "intent");
  const userId = formString(form, "userId") ?? null;
  if (!USER_INTENTS.includes(intentValue as UserIntent)) {
    return reply(
      {
        intent: null,
        userId,
        fieldErrors: {},
        formError: `Unknown form intent "${intentValue ?? ""}"; expected one of ${USER_INTENTS.join(", ")}.`,
      },
      400,
    );
  }
  const intent = intentValue as UserIntent;
  const input = Object.fromEntries(
    ["email", "role", "password", "userId"].map((name) => [
      name,
      formString(form, name),
    ]),
  );
  const values =
    intent === "create"
      ? { email: input.email ?? "", role: input.role ?? "" }
      : undefined;

  const parsed = schemas[intent].safeParse(input);
  if (!parsed.success) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? "form");
      fieldErrors[field] ??= issue.message;
    }
    return reply({ intent, userId, fieldErrors, values }, 400);
  }

  try {
    const success = await applyIntent(prisma, intent, parsed.data);
    logger.info({ actorId, intent, userId }, "user changed on the Users page");
    return reply({ intent, userId, fieldErrors: {}, success });
  } catch (error) {
    if (error instanceof EmailTakenError) {
      return reply(
        { intent, userId, fieldErrors: { email: error.message }, values },
        409,
      );
    }
    if (error instanceof LastAdminError) {
      return reply(
        { intent, userId, fieldErrors: {}, formError: error.message },
        409,
      );
    }
    if (error instanceof UserNotFoundError) {
      return reply(
        { intent, userId, fieldErrors: {}, formError: error.message },
        404,
      );
    }
    throw error;
  }
}

async function applyIntent(
  prisma: PrismaClient,
  intent: UserIntent,
  input: Record<string, string>,
): Promise<string> {
  switch (intent) {
    case "create": {
      const user = await createUser(prisma, {
        email: input.email,
        role: input.role as (typeof ROLES)[number],
        password: input.password,
      });
      return `Created ${user.email} with the ${user.role} role.`;
    }
    case "role":
      await changeRole(
        prisma,
        input.userId,
        input.role as (typeof ROLES)[number],
      );
      return `Changed the role to ${input.role}.`;
    case "password":
      await resetPassword(prisma, input.userId, input.password);
      return "Reset the password. The user's open sessions have ended.";
    case "delete":
      await deleteUser(prisma, input.userId);
      return "Deleted the user.";
  }
}
