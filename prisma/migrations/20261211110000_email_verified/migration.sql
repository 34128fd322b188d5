-- Email verification: when the owner proved the address by a mailed link. Accounts made before this are left
-- unverified (NULL): they keep signing in and using what they have, but must verify before creating an API key or
-- starting a checkout (docs/security.md, account lifecycle).
ALTER TABLE "users" ADD COLUMN "email_verified_at" TIMESTAMPTZ(3);
