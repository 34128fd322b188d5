import { UnavailableError } from '../../http/errors.js';
import type { Db, Queryable } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import { type RedisGuard, RedisUnavailableError } from '../../platform/redis-guard.js';
import { liveSessionOwner, revokeUserSessions } from './auth.repo.js';

/**
 * How a live session stays cached: short, so that a revocation whose Redis write was lost (Redis failing at that
 * moment) still takes effect within a minute, from the database.
 */
const LIVE_CACHE_SECONDS = 60;
/** The cached state of a session that has ended: read by the API rate limiter's script too (src/http/rate-limits.ts). */
export const SESSION_ENDED = 'ended';
/** A live session's cache value is this and its owner's id; a value without the owner (`live`) is read as a miss. */
const LIVE = 'live:';

export interface SessionStateOptions {
  db: Db;
  redis: RedisGuard | undefined;
  keyPrefix: string;
  logger: Logger;
  /** Lifetime of an access token: an "ended" mark need not outlive the tokens it refuses. */
  accessTokenTtlSeconds: number;
  now: () => Date;
}

export type SessionState = ReturnType<typeof createSessionState>;

/**
 * Answers "is this session still live?" for every authenticated request, so logout, logout-all, password change and
 * suspension end access tokens at once rather than at expiry. The database (refresh_tokens) is the truth; Redis
 * holds one key per session (`live:<owner>` or `ended`), so the common case costs one GET. A miss, or Redis failing, reads
 * the database: a Redis outage never lets a revoked token through.
 *
 * Races: the cache is filled with SET NX and an ending overwrites with a plain SET, so a slow reader cannot put
 * `live` back over a fresh `ended`.
 */
export function createSessionState(options: SessionStateOptions) {
  const { db, redis, keyPrefix, logger, now } = options;
  const key = (sid: string) => `${keyPrefix}session:${sid}`;
  const endedTtl = options.accessTokenTtlSeconds + 60;

  async function cached(sid: string): Promise<string | null> {
    if (!redis) return null;
    try {
      return await redis.run((r) => r.get(key(sid)));
    } catch (err) {
      // An outage is logged once by the guard; anything else is worth a line of its own.
      if (!(err instanceof RedisUnavailableError))
        logger.warn({ err: { message: (err as Error).message } }, 'session cache unreadable; reading the database');
      return null;
    }
  }

  return {
    /** The Redis key caching a session's state (`live:<owner>` or `SESSION_ENDED`), for the API rate limiter's script. */
    cacheKey: key,

    /**
     * Whether session `sid` is live and belongs to `userId`. The cache holds `live:<owner>`, so a token that joins
     * one user's id to another user's live session is refused from the cache too, and never marks that session ended.
     */
    async isLive(sid: string, userId: string): Promise<boolean> {
      const state = await cached(sid);
      if (state === SESSION_ENDED) return false;
      if (state?.startsWith(LIVE)) return state === `${LIVE}${userId}`;
      const owner = await liveSessionOwner(db, sid, now());
      const value = owner === undefined ? SESSION_ENDED : `${LIVE}${owner}`;
      redis
        ?.run((r) => r.set(key(sid), value, 'EX', owner === undefined ? endedTtl : LIVE_CACHE_SECONDS, 'NX'))
        .catch(() => undefined); // the next request reads the database again
      return owner === userId;
    },

    /**
     * Revokes every session of the user (but `keep`) in the caller's transaction; answers their ids, to pass to
     * `markEnded` once that transaction committed.
     */
    revokeAllOf(tx: Queryable, userId: string, keep?: string): Promise<string[]> {
      return revokeUserSessions(tx, userId, now(), keep);
    },

    /**
     * Marks sessions ended in the cache, after their revocation committed. Failing here is a 503: the revocation
     * stands in the database, and the short cache lifetime bounds what a stale `live` entry could still allow.
     */
    async markEnded(sids: readonly string[]): Promise<void> {
      if (!redis || sids.length === 0) return;
      try {
        await redis.run(async (r) => {
          const pipeline = r.pipeline();
          for (const sid of sids) pipeline.set(key(sid), SESSION_ENDED, 'EX', endedTtl);
          const failed = ((await pipeline.exec()) ?? []).find(([err]) => err);
          if (failed) throw failed[0];
        });
      } catch (err) {
        if (!(err instanceof RedisUnavailableError))
          logger.error({ err: { message: (err as Error).message } }, 'could not mark sessions ended in Redis');
        throw new UnavailableError('session-store-unavailable', 'Signing out could not complete; retry shortly');
      }
    },
  };
}
