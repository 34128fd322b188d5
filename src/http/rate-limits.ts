import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type ClientRateLimitInfo, ipKeyGenerator, type Options, rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { EmailHash } from '../platform/email-hash.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { type RedisGuard, RedisUnavailableError } from '../platform/redis-guard.js';
import { type ContractPart, withContract } from './contract.js';
import { HttpError, UnavailableError } from './errors.js';

export interface RateLimitSettings {
  perMinute: number;
  authPerMinute: number;
  registerPerHour: number;
  webhookPerMinute: number;
}

/** Where the session check caches a session's state in Redis (src/modules/auth/session-state.service.ts). */
export interface SessionCache {
  cacheKey(sessionId: string): string;
  /** The value cached for a session that has ended. */
  endedMark: string;
}

export interface RateLimitDeps {
  /** Absent only in development without REDIS_URL: each limiter then counts in memory. */
  redis: RedisGuard | undefined;
  keyPrefix: string;
  sessions: SessionCache;
  logger: Logger;
  metrics: Metrics;
  limits: RateLimitSettings;
  /** Names an email in limit keys (never the address itself). */
  emailHash: EmailHash;
}

type KeyOf = (req: Request) => string | undefined;
type AsyncKeyOf = (req: Request) => string | undefined | Promise<string | undefined>;

interface LimiterSpec {
  /** Names the limiter in RateLimit headers, metrics and Redis keys. */
  name: string;
  windowMs: number;
  limit: number;
  /** The client identity to count; undefined skips this limiter for the request. */
  key: KeyOf;
  /**
   * Counts a request whose session check is still running (`claimedSession`) against its user only when the session
   * has not ended, else against its address, as any caller without a valid credential (`sessionAwareStore`).
   */
  sessionAware?: boolean;
  /** Redis failing: refuse the request (503) rather than let it through unchecked. */
  failClosed: boolean;
}

const MINUTE = 60_000;
/** Deliveries a minute from one address to a webhook endpoint (docs/security.md). */
export const WEBHOOK_PER_MINUTE = 600;

/** The client, as Express resolved it through TRUST_PROXY; IPv6 clients count per /56, as one household or host. */
const byIp: KeyOf = (req) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
/** Authenticated callers per user (mount after `authenticate`); anyone else, including an invalid token, per IP. */
const byUserElseIp: KeyOf = (req) => (req.auth ? `user:${req.auth.userId}` : byIp(req));
/**
 * A request whose session is still being checked, as a key `sessionAwareStore` understands: the session, the user
 * it would count against, and the address it counts against if the session has ended. Newlines appear in none.
 */
const PENDING = 'pending\n';
const pendingKey = (req: Request, claim: { sessionId: string; userId: string }) =>
  `${PENDING}${claim.sessionId}\n${claim.userId}\n${byIp(req)}`;
const byAccount: KeyOf = (req) => (req.auth ? `user:${req.auth.userId}` : undefined);
/** The body's `email` by its HMAC (lower-cased and trimmed first, so case and spaces make no new budget). */
const byBodyEmail =
  (emailHash: EmailHash): KeyOf =>
  (req) => {
    const email = (req.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' && email.trim() !== '' ? `email:${emailHash(email)}` : undefined;
  };

/** Reset links one email may be sent per hour, whoever asks: enough for a lost mail or two, too few to flood a box. */
export const PASSWORD_FORGOT_PER_EMAIL_PER_HOUR = 5;
/** Verification emails one account may ask for per hour. */
export const VERIFY_RESEND_PER_HOUR = 3;

export type RateLimits = ReturnType<typeof createRateLimits>;

/**
 * The abuse limits (express-rate-limit, counted in Redis through rate-limit-redis so every instance shares them),
 * answering with IETF draft-8 `RateLimit`/`RateLimit-Policy` headers and, when exceeded, a 429 problem with
 * `Retry-After`. When Redis fails, the general API limit lets requests through (a warning and a counter), while
 * the credential routes answer 503: an outage must not open them to unlimited password guessing.
 */
export function createRateLimits(deps: RateLimitDeps) {
  const { limits } = deps;
  const make = (spec: LimiterSpec) => limiter(spec, deps);
  return {
    /** Every /api/v1 route: per user when authenticated (mount after `authenticate`), else per IP. */
    api: make({
      name: 'api',
      windowMs: MINUTE,
      limit: limits.perMinute,
      key: byUserElseIp,
      failClosed: false,
      sessionAware: true,
    }),
    login: [make({ name: 'login-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true })],
    refresh: [make({ name: 'refresh-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true })],
    /** Password change: per IP and per account (the account's email). Mount after `requireAuth`. */
    password: [
      make({ name: 'password-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true }),
      make({
        name: 'password-account',
        windowMs: MINUTE,
        limit: limits.authPerMinute,
        key: byAccount,
        failClosed: true,
      }),
    ],
    /**
     * The Plaid webhook, per IP and generous: Plaid delivers from a few addresses, sometimes in bursts; the bound is
     * against a flood of forged deliveries, each of which may cost a verification-key lookup at Plaid.
     */
    plaidWebhook: make({
      name: 'webhook-plaid-ip',
      windowMs: MINUTE,
      limit: WEBHOOK_PER_MINUTE,
      key: byIp,
      failClosed: false,
    }),
    register: [
      make({ name: 'register-ip', windowMs: 60 * MINUTE, limit: limits.registerPerHour, key: byIp, failClosed: true }),
    ],
    /**
     * Stripe's webhook, per IP, every call: generous (Stripe delivers in bursts from a few addresses and retries a
     * 429), so that forged calls cannot be sent without bound. Fails open: an outage must not drop Stripe's events.
     */
    stripeWebhook: make({
      name: 'webhook-stripe',
      windowMs: MINUTE,
      limit: limits.webhookPerMinute,
      key: byIp,
      failClosed: false,
    }),
    /**
     * Asking for a reset link: per client like a sign-in, and per email (its HMAC) whoever asks, so nobody floods an
     * inbox. An unknown email is counted the same, or the limit would tell which emails have accounts.
     */
    passwordForgot: [
      make({ name: 'forgot-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true }),
      make({
        name: 'forgot-email',
        windowMs: 60 * MINUTE,
        limit: PASSWORD_FORGOT_PER_EMAIL_PER_HOUR,
        key: byBodyEmail(deps.emailHash),
        failClosed: true,
      }),
    ],
    /** Asking for another verification email: per account, a few an hour (each is a mail to a real inbox). */
    verifyResend: [
      make({ name: 'verify-resend-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true }),
      make({
        name: 'verify-resend-account',
        windowMs: 60 * MINUTE,
        limit: VERIFY_RESEND_PER_HOUR,
        key: byAccount,
        failClosed: true,
      }),
    ],
    /** Using a reset token: per client (the token itself is 256 random bits: guessing is not the risk). */
    passwordReset: [
      make({ name: 'reset-ip', windowMs: MINUTE, limit: limits.authPerMinute, key: byIp, failClosed: true }),
    ],
  };
}

function limiter(spec: LimiterSpec, deps: RateLimitDeps): RequestHandler {
  const { logger, metrics } = deps;
  const prefix = `${deps.keyPrefix}rl:${spec.name}:`;
  const store: Store | undefined = !deps.redis
    ? undefined
    : spec.sessionAware
      ? sessionAwareStore(deps.redis, prefix, deps.sessions)
      : new RedisStore({ sendCommand: redisCommands(deps.redis), prefix });
  const key: AsyncKeyOf = !spec.sessionAware
    ? spec.key
    : (req) => {
        const claim = req.claimedSession;
        if (!claim) return spec.key(req);
        // With Redis, the store's script reads the session's cached state in the same round trip as the count.
        // Without (development only), the session check reads the database: wait for its answer.
        if (store) return pendingKey(req, claim);
        return claim.live.then((live) => (live ? `user:${claim.userId}` : byIp(req)));
      };
  const middleware = rateLimit({
    windowMs: spec.windowMs,
    limit: spec.limit,
    identifier: spec.name,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: async (req) => (await key(req)) ?? '',
    skip: (req) => !spec.sessionAware && spec.key(req) === undefined,
    ...(store ? { store } : {}),
    passOnStoreError: !spec.failClosed,
    // express-rate-limit's start-up checks of its own configuration run on every request; ours is fixed and tested
    // (and TRUST_PROXY decides which X-Forwarded-For hops count: an untrusted header is expected, not a mistake).
    validate: false,
    logger: {
      warn: (...args: unknown[]) => logger.warn({ limiter: spec.name, detail: String(args.at(-1)) }, 'rate limiter'),
      error: (err: unknown) => {
        // Only reached when passOnStoreError let the request through: Redis failed and this limiter fails open.
        // Counted every time; logged only when it is not an outage, which the guard has logged once already.
        metrics.redisFailedOpen(spec.name);
        if (!(err instanceof RedisUnavailableError))
          logger.warn(
            { limiter: spec.name, err: { message: (err as Error)?.message } },
            'rate limit store unavailable; request let through without a limit',
          );
      },
    },
    handler: (_req, _res, next) => {
      metrics.rateLimitRejected(spec.name);
      next(new HttpError(429, 'rate-limited', 'Too many requests; retry after the number of seconds in Retry-After'));
    },
  });
  const contract: ContractPart = {
    answerHeaders: ['RateLimit', 'RateLimit-Policy'],
    problems: spec.failClosed ? ['rate-limited', 'auth-unavailable'] : ['rate-limited'],
  };
  if (!spec.failClosed) return withContract(middleware, contract);
  const failClosed = (req: Request, res: Response, next: NextFunction) =>
    middleware(req, res, (err?: unknown) => {
      if (err === undefined || err instanceof HttpError) return next(err);
      if (!(err instanceof RedisUnavailableError))
        logger.error({ limiter: spec.name, err: { message: (err as Error)?.message } }, 'rate limit store unavailable');
      next(new UnavailableError('auth-unavailable', 'This sign-in service is unavailable right now; retry shortly'));
    });
  return withContract(failClosed, contract);
}

/**
 * One fixed window, as rate-limit-redis counts it, with one more rule: given a session's cached state (KEYS[2]) and an
 * address's counter (KEYS[3]), a session cached as ended (ARGV[2]) is counted against the address instead of the
 * user (KEYS[1]). Read and count in one script, so the common case stays one Redis round trip, sent in the same write
 * as the session check's own GET (authenticate.ts).
 */
const SESSION_AWARE_INCREMENT = `
local key = KEYS[1]
if KEYS[3] and redis.call("GET", KEYS[2]) == ARGV[2] then key = KEYS[3] end
local windowMs = tonumber(ARGV[1])
local timeToExpire = redis.call("PTTL", key)
if timeToExpire <= 0 then
  redis.call("SET", key, 1, "PX", windowMs)
  return { 1, windowMs }
end
return { redis.call("INCR", key), timeToExpire }
`.trim();

/**
 * The API limiter's store: a revoked but unexpired access token must not spend its owner's budget, yet waiting for
 * the session check before counting would add a round trip to every request. So the count itself looks at the
 * session's cached state: `live`, or not cached (the check then reads the database), counts against the user;
 * ended counts against the address. A session revoked while Redis was failing, whose ended mark is therefore not
 * cached yet, counts against its user once (the check then caches it).
 */
function sessionAwareStore(redis: RedisGuard, prefix: string, sessions: SessionCache): Store {
  const send = redisCommands(redis) as (...args: string[]) => Promise<unknown>;
  const sha = createHash('sha1').update(SESSION_AWARE_INCREMENT).digest('hex');
  void send('SCRIPT', 'LOAD', SESSION_AWARE_INCREMENT); // registers the script with `send`; answered locally
  let windowMs = MINUTE;
  return {
    prefix,
    localKeys: false,
    init(options: Options) {
      windowMs = options.windowMs;
    },
    async increment(key: string): Promise<ClientRateLimitInfo> {
      const keys = key.startsWith(PENDING)
        ? (([sessionId = '', userId = '', ipKey = '']) => [
            `${prefix}user:${userId}`,
            sessions.cacheKey(sessionId),
            `${prefix}${ipKey}`,
          ])(key.slice(PENDING.length).split('\n'))
        : [`${prefix}${key}`];
      const reply = await send('EVALSHA', sha, String(keys.length), ...keys, String(windowMs), sessions.endedMark);
      const [totalHits, timeToExpire] = (reply as unknown[]).map(Number);
      return { totalHits: totalHits ?? 0, resetTime: new Date(Date.now() + (timeToExpire ?? windowMs)) };
    },
    async decrement(key: string) {
      await send('DECR', `${prefix}${key}`);
    },
    async resetKey(key: string) {
      await send('DEL', `${prefix}${key}`);
    },
  };
}

/**
 * rate-limit-redis loads its Lua scripts once (SCRIPT LOAD at start) and reuses the SHA. If Redis is down at that
 * moment, or restarts and forgets its scripts, the library would keep a rejected SHA forever. Here SCRIPT LOAD is
 * answered locally (the SHA1 of the script) and EVALSHA falls back to EVAL on NOSCRIPT, as ioredis' own scripts do,
 * so the limiter heals as soon as Redis answers again.
 */
function redisCommands(redis: RedisGuard) {
  const scripts = new Map<string, string>();
  return async (command: string, ...args: string[]): Promise<never> => {
    const name = command.toUpperCase();
    if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args[1] !== undefined) {
      const sha = createHash('sha1').update(args[1]).digest('hex');
      scripts.set(sha, args[1]);
      return sha as never;
    }
    if (name === 'EVALSHA' && args[0] !== undefined) {
      const [sha, ...rest] = args;
      try {
        return (await redis.run((r) => r.call('EVALSHA', sha, ...rest))) as never;
      } catch (err) {
        const script = scripts.get(sha);
        if (!script || !/^NOSCRIPT/.test((err as Error).message)) throw err;
        return (await redis.run((r) => r.call('EVAL', script, ...rest))) as never;
      }
    }
    return (await redis.run((r) => r.call(command, ...args))) as never;
  };
}
