import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { type FieldCipher, fieldContext } from '../platform/crypto.js';
import type { Queryable } from '../platform/db-handle.js';
import type { Logger } from '../platform/logger.js';
import { principalOf } from './authenticate.js';
import { withContract } from './contract.js';
import { ConflictError, UnprocessableError, ValidationError } from './errors.js';
import { claimKey, completeClaim, deleteClaim, findRecord } from './idempotency.repo.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/** How long an answer is kept for replay (IETF draft-ietf-httpapi-idempotency-key-header suggests 24 h). */
const TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A claim this old without an answer belongs to a process that died mid-request; another attempt may take it. Well
 * above the slowest route (a checkout's Stripe calls with their retries take at most about a minute): taking over a
 * claim whose request still runs would run it twice, while waiting only delays a retry after a crash.
 */
const ABANDONED_AFTER_MS = 5 * 60 * 1000;
const KEY = /^[\x21-\x7e]{1,255}$/;

export const IDEMPOTENCY_REPLAYED_HEADER = 'Idempotent-Replayed' as const;

/**
 * `Idempotency-Key` on creating POSTs (mount after authentication and validation). The first request with a key
 * claims it with an INSERT … ON CONFLICT DO NOTHING, so of N concurrent retries exactly one runs; its answer
 * (status and body, 4xx included) is stored before it is sent and replayed for 24 h to the same key with the same
 * request. The same key with another request → 422; while the first still runs → 409. A 5xx answer releases the
 * key so the retry runs again. A client that gives up and disconnects does not: the route keeps running, and its
 * answer is stored for the retry (releasing the key then would let the retry run the route a second time).
 *
 * Stored answers hold what the routes return (check-in notes, answers), so they are encrypted like the rows they
 * came from: `{ "enc": "<envelope>" }`. Routes that return a secret meant to be shown once (a new API key) or a
 * bearer link (the billing portal's URL) must not mount this middleware: a replayable answer is a stored copy of
 * the secret, handed to whoever presents the key for 24 h. Such routes must be safe to run again instead.
 */
export function createIdempotency(deps: {
  db: Queryable;
  cipher: FieldCipher;
  now: () => Date;
  logger: Logger;
}): RequestHandler {
  const { db } = deps;
  const context = (userId: string) => fieldContext('idempotency_keys', 'response_body', userId);

  const middleware: RequestHandler = async (req, res, next) => {
    const key = req.get('Idempotency-Key');
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      throw new ValidationError(
        'invalid-idempotency-key',
        'Idempotency-Key must be 1 to 255 visible ASCII characters',
        [{ path: 'header.Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }],
      );
    }
    const { userId } = principalOf(req);
    const path = req.baseUrl + req.path;
    const requestHash = hashRequest(req.method, path, req.body);

    for (let attempt = 0; attempt < 3; attempt++) {
      const at = deps.now();
      const expiresAt = new Date(at.getTime() + TTL_MS);
      if (await claimKey(db, { userId, key, method: req.method, path, requestHash, createdAt: at, expiresAt })) {
        recordAnswer(res, userId, key, at);
        return next();
      }

      const existing = await findRecord(db, userId, key);
      if (!existing) continue; // released or purged in between: claim again
      const abandoned =
        existing.state === 'in_progress' && at.getTime() - existing.createdAt.getTime() > ABANDONED_AFTER_MS;
      if (existing.expiresAt <= at || abandoned) {
        // Conditional on the row seen, so two takers cannot both delete a fresh claim.
        await deleteClaim(db, { userId, key, createdAt: existing.createdAt });
        continue;
      }
      if (existing.requestHash !== requestHash) {
        throw new UnprocessableError(
          'idempotency-key-reused',
          'This Idempotency-Key was already used with another request; use a new key for a new request',
        );
      }
      if (existing.state === 'in_progress') {
        throw Object.assign(
          new ConflictError('idempotency-in-progress', 'A request with this Idempotency-Key is still being processed'),
          { retryAfterSeconds: 1 },
        );
      }
      const stored = existing.responseBody as { enc?: unknown } | null;
      const { body, location } = (
        typeof stored?.enc === 'string' ? JSON.parse(deps.cipher.decrypt(stored.enc, context(userId))) : {}
      ) as StoredAnswer;
      res.setHeader(IDEMPOTENCY_REPLAYED_HEADER, 'true');
      if (location) res.setHeader('Location', location);
      res.status(existing.responseStatus ?? 200);
      if (body === undefined || body === null) return res.end();
      if ((existing.responseStatus ?? 200) >= 400) res.type(PROBLEM_CONTENT_TYPE);
      return res.json(body);
    }
    throw new ConflictError('idempotency-in-progress', 'A request with this Idempotency-Key is still being processed');
  };
  const documented = withContract(middleware, {
    headers: ['Idempotency-Key'],
    successHeaders: [IDEMPOTENCY_REPLAYED_HEADER],
    problems: ['invalid-idempotency-key', 'idempotency-in-progress', 'idempotency-key-reused'],
  });

  /** Lets the route run, storing its answer before sending it (so a retry after the answer always finds it). */
  function recordAnswer(res: Response, userId: string, key: string, claimedAt: Date): void {
    const claim = { userId, key, createdAt: claimedAt };
    let settled = false;
    const release = () =>
      deleteClaim(db, { ...claim, inProgressOnly: true }).catch((err: unknown) => {
        deps.logger.error({ err }, 'could not release an idempotency key');
      });
    const complete = (status: number, body: unknown) => {
      const location = res.getHeader('Location');
      const answer: StoredAnswer = { body, ...(typeof location === 'string' ? { location } : {}) };
      const enc = deps.cipher.encrypt(JSON.stringify(answer), context(userId));
      return completeClaim(db, claim, { status, body: { enc } }).catch((err: unknown) => {
        deps.logger.error({ err }, 'could not store an idempotent answer');
      });
    };

    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      settled = true;
      const status = res.statusCode;
      const stored = status >= 500 ? release() : complete(status, body);
      void stored.then(() => send(body));
      return res;
    };
    res.once('finish', () => {
      if (settled) return;
      settled = true;
      void (res.statusCode >= 500 ? release() : complete(res.statusCode, undefined));
    });
  }

  return documented;
}

/** What a replay sends again, encrypted at rest: the body and the `Location` of a created resource. */
interface StoredAnswer {
  body?: unknown;
  location?: string;
}

/** SHA-256 of the method, path and body with object keys sorted: the same JSON in another key order is the same request. */
function hashRequest(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([method, path, canonical(body ?? null)]))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
