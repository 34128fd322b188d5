import { ipKeyGenerator } from 'express-rate-limit';
import { HttpError, UnavailableError } from '../../http/errors.js';
import type { EmailHash } from '../../platform/email-hash.js';
import type { Logger } from '../../platform/logger.js';
import { type RedisGuard, RedisUnavailableError } from '../../platform/redis-guard.js';

export interface LoginLockoutOptions {
  redis: RedisGuard | undefined;
  keyPrefix: string;
  emailHash: EmailHash;
  logger: Logger;
  /** Consecutive failures for one email from one address that lock that address out of that email. */
  threshold: number;
  /** Failures for one email from every address together after which each address gets one try per lock. */
  accountThreshold: number;
  lockMinutes: number;
}

/** 429 with Retry-After: the same answer for an email with an account and one without. */
export class LoginLockedError extends HttpError {
  constructor(override readonly retryAfterSeconds: number) {
    super(429, 'login-locked', 'Too many failed sign-ins for this email from here; try again later');
  }
}

export type LoginLockout = ReturnType<typeof createLoginLockout>;

/**
 * Counts failed logins per email, whether or not an account exists (a lock only for real accounts would tell
 * attackers which emails have one), in two counters, each running out `lockMinutes` after its last failure:
 *
 * - per email **and client address** (IPv6 per /56, as the rate limits count): `threshold` consecutive failures lock
 *   that address out of that email. A lock keyed by the email alone would let anyone who knows an email keep its
 *   owner out for ever by failing from anywhere; keyed so, the attacker locks only their own address, and the owner
 *   signs in from theirs. A successful login clears its address' count.
 * - per email, from every address together: past `accountThreshold` failures (a guessing campaign spread over many
 *   addresses) the email is slowed, not locked: each address gets a single failure before its lock, so the
 *   campaign's pace drops while the owner's first try from any address of theirs is still judged.
 *
 * Kept in Redis (shared by every instance; the email as its HMAC, so no address of a person sits in Redis); Redis
 * failing makes login fail closed (503). Without Redis (development only), in memory.
 */
export function createLoginLockout(options: LoginLockoutOptions) {
  const { redis, keyPrefix, emailHash, logger, threshold, accountThreshold, lockMinutes } = options;
  const lockMs = lockMinutes * 60_000;
  const keys = (email: string, client: string | undefined) => {
    const base = `${keyPrefix}login-failures:${emailHash(email)}`;
    return { address: `${base}:from:${ipKeyGenerator(client ?? 'unknown')}`, email: `${base}:all` };
  };
  /** How many failures lock an address, once the email has had `emailFailures` from everywhere. */
  const thresholdAt = (emailFailures: number) => (emailFailures >= accountThreshold ? 1 : threshold);
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
    /** Throws `LoginLockedError` when this address may not try this email now. `client` is the request's address. */
    async assertNotLocked(email: string, client: string | undefined): Promise<void> {
      const k = keys(email, client);
      const { address, ttlMs, emailFailures } = await guarded(() => store.read(k.address, k.email));
      if (address >= thresholdAt(emailFailures) && ttlMs > 0) throw new LoginLockedError(Math.ceil(ttlMs / 1000));
    },
    /** Records a failure; true when this failure is the one that locks the address out of the email. */
    async recordFailure(email: string, client: string | undefined): Promise<boolean> {
      const k = keys(email, client);
      const { address, emailFailures } = await guarded(() => store.increment(k.address, k.email, lockMs));
      return address === thresholdAt(emailFailures);
    },
    /** A successful login: its address starts again from zero (the email's total runs out by itself). */
    async clear(email: string, client: string | undefined): Promise<void> {
      await guarded(() => store.reset(keys(email, client).address));
    },
  };
}

interface Counters {
  read(addressKey: string, emailKey: string): Promise<{ address: number; ttlMs: number; emailFailures: number }>;
  increment(addressKey: string, emailKey: string, ttlMs: number): Promise<{ address: number; emailFailures: number }>;
  reset(key: string): Promise<void>;
}

function redisCounter(redis: RedisGuard): Counters {
  return {
    async read(addressKey, emailKey) {
      const [count, ttl, total] = replies(
        await redis.run((r) => r.multi().get(addressKey).pttl(addressKey).get(emailKey).exec()),
      );
      return { address: Number(count ?? 0), ttlMs: Number(ttl), emailFailures: Number(total ?? 0) };
    },
    async increment(addressKey, emailKey, ttlMs) {
      const [count, , total] = replies(
        await redis.run((r) =>
          r.multi().incr(addressKey).pexpire(addressKey, ttlMs).incr(emailKey).pexpire(emailKey, ttlMs).exec(),
        ),
      );
      return { address: Number(count), emailFailures: Number(total) };
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

function memoryCounter(): Counters {
  const entries = new Map<string, { count: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  const bump = (key: string, ttlMs: number) => {
    const count = (live(key)?.count ?? 0) + 1;
    entries.set(key, { count, expiresAt: Date.now() + ttlMs });
    return count;
  };
  return {
    async read(addressKey, emailKey) {
      const entry = live(addressKey);
      return {
        address: entry?.count ?? 0,
        ttlMs: entry ? entry.expiresAt - Date.now() : -2,
        emailFailures: live(emailKey)?.count ?? 0,
      };
    },
    async increment(addressKey, emailKey, ttlMs) {
      return { address: bump(addressKey, ttlMs), emailFailures: bump(emailKey, ttlMs) };
    },
    async reset(key) {
      entries.delete(key);
    },
  };
}
