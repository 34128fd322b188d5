-- Sessions get an absolute lifetime (SESSION_MAX_DAYS): every token of a session carries the time the session began,
-- copied by each rotation. Existing sessions began when the oldest token of their family was issued (the purge of
-- ended sessions deletes whole families only, so that token is still there).
ALTER TABLE "refresh_tokens" ADD COLUMN "session_started_at" TIMESTAMPTZ(3);

UPDATE "refresh_tokens" AS t
SET "session_started_at" = f."started_at"
FROM (SELECT "family_id", min("created_at") AS "started_at" FROM "refresh_tokens" GROUP BY "family_id") AS f
WHERE t."family_id" = f."family_id";

ALTER TABLE "refresh_tokens" ALTER COLUMN "session_started_at" SET NOT NULL,
    ALTER COLUMN "session_started_at" SET DEFAULT CURRENT_TIMESTAMP;
