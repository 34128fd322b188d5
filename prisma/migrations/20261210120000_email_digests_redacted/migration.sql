-- Failed sign-ins to emails without an account were audited with an unkeyed SHA-256 of the address as their target,
-- which a dictionary of addresses reverses. They are now written with an HMAC under EMAIL_HASH_KEY, but the HMAC of
-- an existing entry cannot be computed: the database holds neither the address nor the key. The digests are
-- therefore dropped; each entry keeps its action, address, request id and time (and ages out under
-- AUDIT_LOG_RETENTION_DAYS like any other), and says by its target type that it was about an email.
UPDATE "audit_log" SET "target_id" = NULL WHERE "target_type" = 'email-sha256';
