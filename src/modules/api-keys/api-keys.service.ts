import { createHash, randomBytes } from 'node:crypto';
import { API_KEY_PREFIX, type Principal } from '../../http/authenticate.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../http/errors.js';
import { type Cursors, createdAtPosition } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import { type RedisGuard, RedisUnavailableError } from '../../platform/redis-guard.js';
import type { AuditLog } from '../audit/audit.port.js';
import {
  apiKeyExists,
  countLiveKeys,
  findKeyByHash,
  insertApiKey,
  listApiKeys,
  lockUserForKeyChange,
  revokeApiKey,
  touchLastUsed,
} from './api-keys.repo.js';
import {
  API_KEY_DEFAULT_DAYS,
  type ApiKey,
  type ApiKeyListQuery,
  type CreateApiKeyBody,
  type CreatedApiKey,
  toApiKey,
} from './api-keys.schemas.js';

/** Live (neither revoked nor expired) keys one user may hold: enough for real use, bounded against abuse. */
export const MAX_LIVE_KEYS_PER_USER = 10;
/** Characters of the secret shown (with `mk_`) to tell keys apart: 48 of its 256 bits, too few to matter. */
const DISPLAY_CHARS = 8;
/** `lastUsedAt` is written at most this often per key, so an API key does not cost a database write per request. */
const TOUCH_INTERVAL_SECONDS = 60;
/** `mk_` and 32 random bytes in base64url: anything else cannot be a key, and is refused without a query. */
const KEY_FORMAT = /^mk_[A-Za-z0-9_-]{43}$/;

/**
 * Plain SHA-256, not bcrypt: the key is 256 random bits, so there is nothing to guess and no dictionary to slow
 * down, and a fast hash lets every request find its key by an indexed lookup on the hash.
 */
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface ApiKeysServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  cursors: Cursors;
  /** Absent only in development without REDIS_URL: `lastUsedAt` throttling then lives in this process. */
  redis: RedisGuard | undefined;
  keyPrefix: string;
  logger: Logger;
  /** Whether `password` is the account's current one (the auth service's; a bcrypt comparison either way). */
  confirmPassword: (userId: string, password: string) => Promise<boolean>;
  /** Throws 403 `email-unverified` unless the account's address is verified (the auth module's rule). */
  assertEmailVerified: (userId: string) => Promise<void>;
  now: () => Date;
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;

export function createApiKeysService(deps: ApiKeysServiceDeps) {
  const { db, auditLog, cursors, logger, now } = deps;
  const recentlyUsed = createUseGate(deps.redis, deps.keyPrefix);
  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId });

  /** Uses still being recorded; `settled()` waits for them. */
  const recording = new Set<Promise<unknown>>();

  /** Records a use in the background; a failure is logged and never reaches the request. */
  function noteUse(id: string): void {
    const at = now();
    const write = recentlyUsed(id)
      .then((first) => (first ? touchLastUsed(db, id, at) : undefined))
      .catch((err: unknown) => {
        // During a Redis outage (logged once by the guard) a use goes unrecorded: `lastUsedAt` is a hint, not a record.
        if (!(err instanceof RedisUnavailableError))
          logger.warn({ err: { message: (err as Error).message }, apiKeyId: id }, 'could not record API key use');
      })
      .finally(() => recording.delete(write));
    recording.add(write);
  }

  return {
    /** Resolves once every use noted so far is written, or found not due: the moment "nothing more is written" holds. */
    async settled(): Promise<void> {
      await Promise.all(recording);
    },

    /**
     * A new key, shown once. The current password is required: a session token stolen from a device could otherwise
     * mint a key that outlives it. Password change, reset and signing out everywhere revoke every key (port).
     */
    async create(userId: string, input: CreateApiKeyBody, ctx: RequestContext): Promise<CreatedApiKey> {
      await deps.assertEmailVerified(userId);
      if (!(await deps.confirmPassword(userId, input.password))) {
        throw new ForbiddenError('invalid-password', 'The password is incorrect; no key was created');
      }
      const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const at = now();
      const row = await db.transaction(async (tx) => {
        if (!(await lockUserForKeyChange(tx, userId)))
          throw new NotFoundError('not-found', 'The account no longer exists');
        if ((await countLiveKeys(tx, userId, at)) >= MAX_LIVE_KEYS_PER_USER) {
          throw new ConflictError(
            'api-key-limit-reached',
            `An account can hold at most ${MAX_LIVE_KEYS_PER_USER} live API keys; revoke one first`,
          );
        }
        const created = await insertApiKey(tx, {
          userId,
          name: input.name,
          prefix: key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS),
          keyHash: sha256(key),
          scopes: ['read'],
          expiresAt: new Date(at.getTime() + (input.expiresInDays ?? API_KEY_DEFAULT_DAYS) * 86_400_000),
        });
        await auditLog.record(tx, {
          action: 'auth.api_key_create',
          userId,
          targetType: 'api_key',
          targetId: created.id,
          ...audit(ctx),
        });
        return created;
      });
      return { apiKey: toApiKey(row), key };
    },

    async list(userId: string, query: ApiKeyListQuery): Promise<{ data: ApiKey[]; nextCursor: string | null }> {
      const rows = await listApiKeys(db, userId, query.limit, cursors.decodeCreatedAt(query.cursor));
      return cursors.page(rows, query.limit, createdAtPosition, toApiKey);
    },

    /**
     * Idempotent: revoking a key already revoked answers like the first time (a retried DELETE must not fail), and
     * records nothing. A key that is not the caller's is "not found", whether or not it exists.
     */
    async revoke(userId: string, id: string, ctx: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        if (await revokeApiKey(tx, userId, id, now())) {
          await auditLog.record(tx, {
            action: 'auth.api_key_revoke',
            userId,
            targetType: 'api_key',
            targetId: id,
            ...audit(ctx),
          });
        } else if (!(await apiKeyExists(tx, userId, id))) {
          throw new NotFoundError('not-found', 'No such API key');
        }
      });
    },

    /**
     * The principal of a presented key, or undefined when it is unknown, revoked, expired or its owner is not
     * active. Read from the database on every request, so a revocation or a suspension takes effect at once.
     */
    async principalOfKey(key: string): Promise<Principal | undefined> {
      if (!KEY_FORMAT.test(key)) return undefined;
      const row = await findKeyByHash(db, sha256(key));
      if (!row || row.revokedAt || row.expiresAt <= now() || row.user.status !== 'active') {
        return undefined;
      }
      noteUse(row.id);
      return {
        kind: 'api-key',
        userId: row.userId,
        role: row.user.role,
        apiKeyId: row.id,
        scopes: row.scopes,
        via: 'header',
      };
    },
  };
}

/**
 * Answers true for the first use of a key in each interval. Redis `SET NX EX` makes that true once across every
 * instance; without Redis (development), a map in this process does, pruned so it cannot grow without bound.
 */
function createUseGate(redis: RedisGuard | undefined, keyPrefix: string): (id: string) => Promise<boolean> {
  if (redis) {
    return async (id) =>
      (await redis.run((r) => r.set(`${keyPrefix}api-key-used:${id}`, '1', 'EX', TOUCH_INTERVAL_SECONDS, 'NX'))) ===
      'OK';
  }
  const until = new Map<string, number>();
  return async (id) => {
    const t = Date.now();
    if ((until.get(id) ?? 0) > t) return false;
    if (until.size >= 1_000) {
      for (const [k, expiry] of until) if (expiry <= t) until.delete(k);
      if (until.size >= 1_000) until.clear(); // at worst, a few extra writes
    }
    until.set(id, t + TOUCH_INTERVAL_SECONDS * 1000);
    return true;
  };
}
