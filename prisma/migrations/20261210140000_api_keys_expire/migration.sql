-- Every API key now expires (90 days unless its creator chose 1 to 365). A key made before, without an expiry, is
-- given 90 days from this migration, not from its creation: a script using an old key keeps working long enough for
-- its owner to see the expiry in the key list and replace it, instead of failing the day this is deployed.
UPDATE "api_keys" SET "expires_at" = CURRENT_TIMESTAMP + interval '90 days' WHERE "expires_at" IS NULL;

ALTER TABLE "api_keys" ALTER COLUMN "expires_at" SET NOT NULL;
