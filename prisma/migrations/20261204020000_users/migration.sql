-- Dashboard accounts. The table is app_user because "user" is a reserved
-- word in PostgreSQL.

CREATE TABLE "app_user" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "app_user_role_check" CHECK ("role" IN ('viewer', 'developer', 'admin')),
    -- Emails are compared case-insensitively by storing them lower-cased.
    CONSTRAINT "app_user_email_lower_check" CHECK ("email" = lower("email"))
);

CREATE UNIQUE INDEX "app_user_email_key" ON "app_user" ("email");
