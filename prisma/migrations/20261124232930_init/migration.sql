-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('user', 'admin');

-- CreateEnum
CREATE TYPE "user_status" AS ENUM ('active', 'suspended');

-- CreateEnum
CREATE TYPE "reminder_recurrence" AS ENUM ('none', 'daily', 'weekly', 'monthly');

-- CreateEnum
CREATE TYPE "reminder_channel" AS ENUM ('push', 'email');

-- CreateEnum
CREATE TYPE "idempotency_state" AS ENUM ('in_progress', 'completed');

-- CreateEnum
CREATE TYPE "subscription_plan" AS ENUM ('budget', 'mid_tier', 'professional');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" VARCHAR(254) NOT NULL,
    "password_hash" TEXT NOT NULL,
    "name" VARCHAR(200),
    "role" "user_role" NOT NULL DEFAULT 'user',
    "status" "user_status" NOT NULL DEFAULT 'active',
    "failed_login_count" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "password_changed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "refresh_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "family_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "replaced_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "user_agent" TEXT,
    "ip" VARCHAR(64),

    CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "prefix" VARCHAR(16) NOT NULL,
    "key_hash" TEXT NOT NULL,
    "scopes" TEXT[] DEFAULT ARRAY['read']::TEXT[],
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user_profiles" (
    "user_id" UUID NOT NULL,
    "monthly_income_enc" TEXT,
    "current_savings_enc" TEXT,
    "current_debt_enc" TEXT,
    "household_size" INTEGER,
    "dependents" INTEGER,
    "city" VARCHAR(100),
    "state" VARCHAR(2),
    "zip_code" VARCHAR(10),
    "employment_status" VARCHAR(32),
    "age_range" VARCHAR(16),
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "goals" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_profiles_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "user_health_checkins" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "checkin_date" DATE NOT NULL,
    "stress_level" INTEGER NOT NULL,
    "mood_rating" INTEGER NOT NULL,
    "relationships_rating" INTEGER NOT NULL,
    "sleep_hours" DECIMAL(4,2) NOT NULL,
    "physical_activity_minutes" INTEGER NOT NULL,
    "mindfulness_minutes" INTEGER NOT NULL,
    "notes_enc" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_health_checkins_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "financial_questionnaire_submissions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "questionnaire_slug" VARCHAR(64) NOT NULL,
    "definition_version" INTEGER NOT NULL,
    "answers_enc" TEXT NOT NULL,
    "score" INTEGER NOT NULL,
    "band" VARCHAR(32) NOT NULL,
    "recommendations" JSONB NOT NULL,
    "submitted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "financial_questionnaire_submissions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reminder_schedules" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "due_date" DATE NOT NULL,
    "recurrence" "reminder_recurrence" NOT NULL DEFAULT 'none',
    "channel" "reminder_channel" NOT NULL DEFAULT 'push',
    "completed_at" TIMESTAMPTZ(3),
    "previous_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reminder_schedules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "user_id" UUID NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "method" VARCHAR(10) NOT NULL,
    "path" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "state" "idempotency_state" NOT NULL DEFAULT 'in_progress',
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("user_id","key")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "stripe_customer_id" VARCHAR(255) NOT NULL,
    "stripe_subscription_id" VARCHAR(255),
    "plan" "subscription_plan",
    "status" VARCHAR(32) NOT NULL DEFAULT 'incomplete',
    "current_period_end" TIMESTAMPTZ(3),
    "cancel_at_period_end" BOOLEAN NOT NULL DEFAULT false,
    "past_due_since" TIMESTAMPTZ(3),
    "stripe_object_updated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "billing_invoices" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "stripe_invoice_id" VARCHAR(255) NOT NULL,
    "amount_due_cents" INTEGER NOT NULL,
    "amount_paid_cents" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" VARCHAR(32) NOT NULL,
    "period_start" TIMESTAMPTZ(3),
    "period_end" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "billing_invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stripe_events" (
    "id" VARCHAR(255) NOT NULL,
    "type" VARCHAR(255) NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stripe_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plaid_items" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "plaid_item_id" VARCHAR(255) NOT NULL,
    "access_token_enc" TEXT NOT NULL,
    "institution_id" VARCHAR(255),
    "institution_name" TEXT,
    "transactions_cursor" TEXT,
    "status" VARCHAR(32) NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plaid_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bank_accounts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "item_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "plaid_account_id" VARCHAR(255) NOT NULL,
    "name" TEXT NOT NULL,
    "official_name" TEXT,
    "mask" VARCHAR(8),
    "type" VARCHAR(32) NOT NULL,
    "subtype" VARCHAR(64),
    "current_balance_cents" BIGINT,
    "available_balance_cents" BIGINT,
    "iso_currency_code" VARCHAR(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bank_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bank_transactions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "plaid_transaction_id" VARCHAR(255) NOT NULL,
    "date" DATE NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "iso_currency_code" VARCHAR(3),
    "name" TEXT NOT NULL,
    "merchant_name" TEXT,
    "category" TEXT,
    "pending" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bank_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID,
    "actor_id" UUID,
    "action" VARCHAR(64) NOT NULL,
    "target_type" VARCHAR(64),
    "target_id" VARCHAR(255),
    "fields" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "ip" VARCHAR(64),
    "request_id" VARCHAR(128),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_replaced_by_id_key" ON "refresh_tokens"("replaced_by_id");

-- CreateIndex
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens"("user_id");

-- CreateIndex
CREATE INDEX "refresh_tokens_family_id_idx" ON "refresh_tokens"("family_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_user_id_idx" ON "api_keys"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "user_health_checkins_user_id_checkin_date_key" ON "user_health_checkins"("user_id", "checkin_date");

-- CreateIndex
CREATE INDEX "financial_questionnaire_submissions_user_id_submitted_at_idx" ON "financial_questionnaire_submissions"("user_id", "submitted_at");

-- CreateIndex
CREATE UNIQUE INDEX "reminder_schedules_previous_id_key" ON "reminder_schedules"("previous_id");

-- CreateIndex
CREATE INDEX "reminder_schedules_user_id_due_date_idx" ON "reminder_schedules"("user_id", "due_date");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_user_id_key" ON "subscriptions"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_stripe_customer_id_key" ON "subscriptions"("stripe_customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_stripe_subscription_id_key" ON "subscriptions"("stripe_subscription_id");

-- CreateIndex
CREATE UNIQUE INDEX "billing_invoices_stripe_invoice_id_key" ON "billing_invoices"("stripe_invoice_id");

-- CreateIndex
CREATE INDEX "billing_invoices_user_id_created_at_idx" ON "billing_invoices"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "plaid_items_plaid_item_id_key" ON "plaid_items"("plaid_item_id");

-- CreateIndex
CREATE INDEX "plaid_items_user_id_idx" ON "plaid_items"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "bank_accounts_plaid_account_id_key" ON "bank_accounts"("plaid_account_id");

-- CreateIndex
CREATE INDEX "bank_accounts_user_id_idx" ON "bank_accounts"("user_id");

-- CreateIndex
CREATE INDEX "bank_accounts_item_id_idx" ON "bank_accounts"("item_id");

-- CreateIndex
CREATE UNIQUE INDEX "bank_transactions_plaid_transaction_id_key" ON "bank_transactions"("plaid_transaction_id");

-- CreateIndex
CREATE INDEX "bank_transactions_user_id_date_idx" ON "bank_transactions"("user_id", "date");

-- CreateIndex
CREATE INDEX "bank_transactions_account_id_date_idx" ON "bank_transactions"("account_id", "date");

-- CreateIndex
CREATE INDEX "audit_log_user_id_created_at_idx" ON "audit_log"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_log_action_created_at_idx" ON "audit_log"("action", "created_at");

-- CreateIndex
CREATE INDEX "audit_log_created_at_idx" ON "audit_log"("created_at");

-- CreateIndex
CREATE INDEX "audit_log_actor_id_idx" ON "audit_log"("actor_id");

-- AddForeignKey
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_replaced_by_id_fkey" FOREIGN KEY ("replaced_by_id") REFERENCES "refresh_tokens"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "user_profiles" ADD CONSTRAINT "user_profiles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "user_health_checkins" ADD CONSTRAINT "user_health_checkins_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "financial_questionnaire_submissions" ADD CONSTRAINT "financial_questionnaire_submissions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reminder_schedules" ADD CONSTRAINT "reminder_schedules_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reminder_schedules" ADD CONSTRAINT "reminder_schedules_previous_id_fkey" FOREIGN KEY ("previous_id") REFERENCES "reminder_schedules"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "billing_invoices" ADD CONSTRAINT "billing_invoices_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plaid_items" ADD CONSTRAINT "plaid_items_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bank_accounts" ADD CONSTRAINT "bank_accounts_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "plaid_items"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bank_accounts" ADD CONSTRAINT "bank_accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bank_transactions" ADD CONSTRAINT "bank_transactions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "bank_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bank_transactions" ADD CONSTRAINT "bank_transactions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written below this line: CHECK constraints, which Prisma's schema language cannot express and its diff
-- ignores. They hold the rules the database can enforce on its own, whatever path a write takes (app, raw SQL,
-- a maintenance script). The app validates the same rules first, so a violation here means a bug, not bad input.

-- AddCheckConstraint
ALTER TABLE "users"
    ADD CONSTRAINT "users_email_lowercase_check" CHECK ("email" = lower("email")),
    ADD CONSTRAINT "users_failed_login_count_check" CHECK ("failed_login_count" >= 0);

-- AddCheckConstraint
ALTER TABLE "refresh_tokens"
    ADD CONSTRAINT "refresh_tokens_replaced_by_other_check" CHECK ("replaced_by_id" <> "id");

-- AddCheckConstraint
ALTER TABLE "api_keys"
    ADD CONSTRAINT "api_keys_scopes_check" CHECK ("scopes" IS NOT NULL AND cardinality("scopes") > 0);

-- AddCheckConstraint
ALTER TABLE "user_profiles"
    ADD CONSTRAINT "user_profiles_household_size_check" CHECK ("household_size" BETWEEN 1 AND 20),
    ADD CONSTRAINT "user_profiles_dependents_check" CHECK ("dependents" BETWEEN 0 AND 20),
    ADD CONSTRAINT "user_profiles_state_check" CHECK ("state" ~ '^[A-Z]{2}$'),
    ADD CONSTRAINT "user_profiles_zip_code_check" CHECK ("zip_code" ~ '^[0-9]{5}(-[0-9]{4})?$'),
    ADD CONSTRAINT "user_profiles_goals_check" CHECK ("goals" IS NOT NULL);

-- AddCheckConstraint
-- The app refuses dates after the user's own today; the database only knows UTC, and the earliest time zone is
-- UTC+14, so it allows up to one day after the UTC date.
ALTER TABLE "user_health_checkins"
    ADD CONSTRAINT "user_health_checkins_stress_level_check" CHECK ("stress_level" BETWEEN 1 AND 10),
    ADD CONSTRAINT "user_health_checkins_mood_rating_check" CHECK ("mood_rating" BETWEEN 1 AND 10),
    ADD CONSTRAINT "user_health_checkins_relationships_rating_check" CHECK ("relationships_rating" BETWEEN 1 AND 10),
    ADD CONSTRAINT "user_health_checkins_sleep_hours_check" CHECK ("sleep_hours" BETWEEN 0 AND 24),
    ADD CONSTRAINT "user_health_checkins_physical_activity_minutes_check" CHECK ("physical_activity_minutes" BETWEEN 0 AND 1440),
    ADD CONSTRAINT "user_health_checkins_mindfulness_minutes_check" CHECK ("mindfulness_minutes" BETWEEN 0 AND 1440),
    ADD CONSTRAINT "user_health_checkins_checkin_date_check" CHECK ("checkin_date" <= ((now() AT TIME ZONE 'UTC')::date + 1));

-- AddCheckConstraint
ALTER TABLE "financial_questionnaire_submissions"
    ADD CONSTRAINT "financial_questionnaire_submissions_score_check" CHECK ("score" BETWEEN 0 AND 100),
    ADD CONSTRAINT "financial_questionnaire_submissions_definition_version_check" CHECK ("definition_version" >= 1);

-- AddCheckConstraint
ALTER TABLE "reminder_schedules"
    ADD CONSTRAINT "reminder_schedules_title_check" CHECK (length(btrim("title")) > 0),
    ADD CONSTRAINT "reminder_schedules_previous_other_check" CHECK ("previous_id" <> "id");

-- AddCheckConstraint
ALTER TABLE "idempotency_keys"
    ADD CONSTRAINT "idempotency_keys_key_check" CHECK (length("key") > 0),
    ADD CONSTRAINT "idempotency_keys_response_status_check" CHECK ("response_status" BETWEEN 100 AND 599),
    ADD CONSTRAINT "idempotency_keys_completed_check" CHECK ("state" <> 'completed' OR "response_status" IS NOT NULL);

-- AddCheckConstraint
ALTER TABLE "billing_invoices"
    ADD CONSTRAINT "billing_invoices_amount_due_cents_check" CHECK ("amount_due_cents" >= 0),
    ADD CONSTRAINT "billing_invoices_amount_paid_cents_check" CHECK ("amount_paid_cents" >= 0),
    ADD CONSTRAINT "billing_invoices_currency_check" CHECK ("currency" ~ '^[a-z]{3}$'),
    ADD CONSTRAINT "billing_invoices_period_check" CHECK ("period_end" >= "period_start");

-- AddCheckConstraint
ALTER TABLE "bank_accounts"
    ADD CONSTRAINT "bank_accounts_iso_currency_code_check" CHECK ("iso_currency_code" ~ '^[A-Z]{3}$');

-- AddCheckConstraint
ALTER TABLE "bank_transactions"
    ADD CONSTRAINT "bank_transactions_iso_currency_code_check" CHECK ("iso_currency_code" ~ '^[A-Z]{3}$');

-- AddCheckConstraint
ALTER TABLE "audit_log"
    ADD CONSTRAINT "audit_log_action_check" CHECK (length("action") > 0),
    ADD CONSTRAINT "audit_log_fields_check" CHECK ("fields" IS NOT NULL);
