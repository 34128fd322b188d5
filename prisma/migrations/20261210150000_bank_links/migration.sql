-- Bank links: an item's health and error, its sync bookkeeping (the cursor of the update in progress and the lease
-- that keeps two syncs of one item apart, docs/adr/0018), one link per institution per user; transactions signed
-- from the user's side (negative: money leaving the account).

-- AlterTable
ALTER TABLE "plaid_items" ALTER COLUMN "status" SET DEFAULT 'healthy',
ADD COLUMN     "error_code" VARCHAR(64),
ADD COLUMN     "last_synced_at" TIMESTAMPTZ(3),
ADD COLUMN     "sync_page_cursor" TEXT,
ADD COLUMN     "sync_lease_id" UUID,
ADD COLUMN     "sync_lease_until" TIMESTAMPTZ(3),
ADD COLUMN     "sync_requested_at" TIMESTAMPTZ(3);

UPDATE "plaid_items" SET "status" = 'healthy' WHERE "status" = 'active';

ALTER TABLE "plaid_items"
    ADD CONSTRAINT "plaid_items_status_check"
    CHECK ("status"::text = ANY (ARRAY['healthy', 'login_required', 'pending_expiration', 'revoked']::text[]));

-- DropIndex: the unique index below leads with user_id.
DROP INDEX "plaid_items_user_id_idx";

-- CreateIndex
CREATE UNIQUE INDEX "plaid_items_user_id_institution_id_key" ON "plaid_items"("user_id", "institution_id");

-- Until now stored with Plaid's sign (positive: money out); nothing wrote the table but seeded data.
UPDATE "bank_transactions" SET "amount_cents" = -"amount_cents";

-- DropIndex: the list pages newest first on (date, id); the wider index serves that order and the old prefix.
DROP INDEX "bank_transactions_user_id_date_idx";

-- CreateIndex
CREATE INDEX "bank_transactions_user_id_date_id_idx" ON "bank_transactions"("user_id", "date", "id");
