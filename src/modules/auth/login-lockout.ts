import { HttpError, UnavailableError } from '../../http/errors.js';
import type { EmailHash } from '../../platform/email-hash.js';
import type { Logger } from '../../platform/logger.js';
import { type RedisGuard, RedisUnavailableError } from '../../platform/redis-guard.js';

export interface LoginLockoutOptions {
  redis: RedisGuard | undefined;
  keyPrefix: string;
  emailHash: EmailHash;
  logger: Logger;
  threshold: number;
  lockMinutes: number;
}

/** 429 with Retry-After: the same answer for an email with an account and one without. */
export class LoginLockedError extends HttpError {
  constructor(override readonly retryAfterSeconds: number) {
    super(429, 'login-locked', 'Too many failed sign-ins for this email; try again later');
  }
}

export type LoginLockout = ReturnType<typeof createLoginLockout>;

/**
 * Counts consecutive failed logins per email, whether or not an account exists (a lock only for real accounts would
 * tell attackers which emails have one). `threshold` failures lock the email for `lockMinutes`, counted from the
 * last failure; a successful login clears the count. Kept in Redis (shared by every instance; emails hashed, so no
 * address sits in Redis); Redis failing makes login fail closed (503). Without Redis (development only), in memory.
 */
export function createLoginLockout(options: LoginLockoutOptions) {
  const { redis, keyPrefix, emailHash, logger, threshold, lockMinutes } = options;
  const lockMs = lockMinutes * 60_000;
  const key = (email: string) => `${keyPrefix}login-failures:${emailHash(email)}`;
  const store = redis ? redisCounter(redis) : memoryCounter();

  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      // An outage is logged once by the guard; anything else is worth a line of its own.
      if (!(err instanceof RedisUnavailableError))
        logger.error({ err: { message: (err as Error).message } }, 'login lockout store unavailable');
      throw new UnavailableError('auth-unavailable', 'Sign-in is unavailable right now; retry shortly');
    }
  }

  return {
    async assertNotLocked(email: string): Promise<void> {
      const { count, ttlMs } = await guarded(() => store.get(key(email)));
      if (count >= threshold && ttlMs > 0) throw new LoginLockedError(Math.ceil(ttlMs / 1000));
    },
    /** Records a failure; true when this failure is the one that locks the email. */
    async recordFailure(email: string): Promise<boolean> {
      const count = await guarded(() => store.increment(key(email), lockMs));
      return count === threshold;
    },
    async clear(email: string): Promise<void> {
      await guarded(() => store.reset(key(email)));
    },
  };
}

interface Counter {
  get(key: string): Promise<{ count: number; ttlMs: number }>;
  increment(key: string, ttlMs: number): Promise<number>;
  reset(key: string): Promise<void>;
}

function redisCounter(redis: RedisGuard): Counter {
  return {
    async get(key) {
      const [count, ttl] = replies(await redis.run((r) => r.multi().get(key).pttl(key).exec()));
      return { count: Number(count ?? 0), ttlMs: Number(ttl) };
    },
    async increment(key, ttlMs) {
      const [count] = replies(await redis.run((r) => r.multi().incr(key).pexpire(key, ttlMs).exec()));
      return Number(count);
    },
    async reset(key) {
      await redis.run((r) => r.del(key));
    },
  };
}

/** The replies of a MULTI, or its first error (EXEC answers null when the transaction was aborted). */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('redis transaction aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function memoryCounter(): Counter {
  const entries = new Map<string, { count: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  return {
    async get(key) {
      const entry = live(key);
      return { count: entry?.count ?? 0, ttlMs: entry ? entry.expiresAt - Date.now() : -2 };
    },
    async increment(key, ttlMs) {
      const count = (live(key)?.count ?? 0) + 1;
      entries.set(key, { count, expiresAt: Date.now() + ttlMs });
      return count;
    },
    async reset(key) {
      entries.delete(key);
    },
  };
}
