-- Failed-login counting moved to Redis (src/modules/auth/login-lockout.ts): it must also count emails that have no
-- account, so that a lockout never tells an attacker which emails exist. These columns are no longer read or written.
ALTER TABLE "users" DROP CONSTRAINT "users_failed_login_count_check";
ALTER TABLE "users" DROP COLUMN "failed_login_count",
DROP COLUMN "locked_until";

-- GET /admin/users pages newest first on (created_at, id): without this index each page sorts the whole table.
CREATE INDEX "users_created_at_id_idx" ON "users"("created_at" DESC, "id" DESC);
