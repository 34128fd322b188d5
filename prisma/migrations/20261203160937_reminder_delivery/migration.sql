-- Reminders are delivered: by email or Web Push, at the user's preferred hour of the due date in their time zone,
-- one recorded delivery per occurrence.
-- CreateEnum
CREATE TYPE "reminder_delivery_status" AS ENUM ('retrying', 'sent', 'failed', 'skipped');

-- AlterTable
ALTER TABLE "user_profiles" ADD COLUMN     "reminder_hour" SMALLINT NOT NULL DEFAULT 9;

-- CreateTable
CREATE TABLE "reminder_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "reminder_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "occurrence" DATE NOT NULL,
    "channel" "reminder_channel" NOT NULL,
    "status" "reminder_delivery_status" NOT NULL,
    "attempts" SMALLINT NOT NULL,
    "last_error_code" VARCHAR(64),
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reminder_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "push_subscriptions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "endpoint" VARCHAR(2048) NOT NULL,
    "keys_enc" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "push_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "reminder_deliveries_user_id_idx" ON "reminder_deliveries"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "reminder_deliveries_reminder_id_occurrence_key" ON "reminder_deliveries"("reminder_id", "occurrence");

-- CreateIndex
CREATE UNIQUE INDEX "push_subscriptions_endpoint_key" ON "push_subscriptions"("endpoint");

-- CreateIndex
CREATE INDEX "push_subscriptions_user_id_created_at_idx" ON "push_subscriptions"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "reminder_deliveries" ADD CONSTRAINT "reminder_deliveries_reminder_id_fkey" FOREIGN KEY ("reminder_id") REFERENCES "reminder_schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reminder_deliveries" ADD CONSTRAINT "reminder_deliveries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateIndex
CREATE INDEX "reminder_schedules_due_date_idx" ON "reminder_schedules"("due_date");

ALTER TABLE "user_profiles"
    ADD CONSTRAINT "user_profiles_reminder_hour_check" CHECK ("reminder_hour" BETWEEN 0 AND 23);
ALTER TABLE "reminder_deliveries"
    ADD CONSTRAINT "reminder_deliveries_attempts_check" CHECK ("attempts" >= 1);
