import { createHash, createPublicKey, type JsonWebKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { UnavailableError, ValidationError } from '../../http/errors.js';
import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import { type PlaidClient, PlaidRequestError } from '../../platform/plaid.js';
import type { AuditLog } from '../audit/audit.port.js';
import { findItemByPlaidId, setItemStatus } from './banking.repo.js';
import { type ItemStatus, type PlaidWebhookAck, PlaidWebhookBody } from './banking.schemas.js';
import { bankingNotConfigured, plaidFailed, type SyncRequests } from './banking.service.js';

/** Plaid's rule: a webhook whose JWT was issued more than 5 minutes ago is a replay. */
const MAX_AGE_SECONDS = 300;
/** How long a fetched key is trusted before Plaid is asked again (and so how soon an expired key is refused). */
const KEY_CACHE_MS = 10 * 60_000;
/** Plaid has a handful of live keys; a flood of made-up kids must not grow memory. */
const KEY_CACHE_MAX = 64;

/** Why a delivery was refused: the `reason` label of `mingus_webhook_failures_total`. */
export type WebhookRefusalReason =
  | 'missing_header'
  | 'malformed_token'
  | 'wrong_algorithm'
  | 'unknown_key'
  | 'expired_key'
  | 'stale'
  | 'bad_signature'
  | 'body_mismatch'
  | 'malformed_body';

class WebhookRefusal extends Error {
  constructor(readonly reason: WebhookRefusalReason) {
    super(reason);
  }
}

/** The webhook types this service acts on; any other is acknowledged and counted as `other`. */
const HANDLED = {
  'TRANSACTIONS.SYNC_UPDATES_AVAILABLE': 'sync',
  'ITEM.ERROR': 'error',
  'ITEM.LOGIN_REPAIRED': 'healthy',
  'ITEM.PENDING_EXPIRATION': 'pending_expiration',
  'ITEM.PENDING_DISCONNECT': 'pending_expiration',
  'ITEM.USER_PERMISSION_REVOKED': 'revoked',
  'ITEM.USER_ACCOUNT_REVOKED': 'revoked',
} as const satisfies Record<string, 'sync' | 'error' | ItemStatus>;
type Handled = keyof typeof HANDLED;
const isHandled = (type: string): type is Handled => Object.hasOwn(HANDLED, type);

interface Verified {
  body: PlaidWebhookBody;
  iat: number;
  bodySha256: string;
}

export type PlaidWebhooks = ReturnType<typeof createPlaidWebhooks>;

/**
 * `POST /webhooks/plaid`: verifies Plaid's `Plaid-Verification` JWT (ES256 only, the key of its `kid` fetched from
 * Plaid and cached, issued within 5 minutes, over the SHA-256 of the raw body) before reading anything of the body,
 * then acts on it: a sync job for new transactions, the item's health for item events.
 */
export function createPlaidWebhooks(deps: {
  db: Db;
  plaid: PlaidClient | undefined;
  syncs: SyncRequests | undefined;
  auditLog: AuditLog;
  metrics: Metrics;
  logger: Logger;
  now: () => Date;
}) {
  const { db, metrics, logger, now } = deps;
  const keys = new Map<string, { key: KeyObject; fetchedAt: number }>();
  const fetching = new Map<string, Promise<KeyObject>>();

  async function fetchKey(plaid: PlaidClient, kid: string): Promise<KeyObject> {
    let answer: Awaited<ReturnType<PlaidClient['webhookVerificationKeyGet']>>;
    try {
      answer = await plaid.webhookVerificationKeyGet({ key_id: kid });
    } catch (err) {
      // Plaid's 4xx: no such key. Anything else is an outage: 502, and Plaid delivers again later.
      if (err instanceof PlaidRequestError && err.status !== undefined && err.status < 500) {
        throw new WebhookRefusal('unknown_key');
      }
      throw plaidFailed(logger, 'webhook verification key lookup', err);
    }
    const { key } = answer;
    if (key.kid !== kid || key.alg !== 'ES256' || key.kty !== 'EC' || key.crv !== 'P-256') {
      throw new WebhookRefusal('unknown_key');
    }
    if (key.expired_at !== null && key.expired_at !== undefined) {
      keys.delete(kid);
      throw new WebhookRefusal('expired_key');
    }
    const jwk: JsonWebKey = { kty: key.kty, crv: key.crv, x: key.x, y: key.y };
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    if (keys.size >= KEY_CACHE_MAX) keys.delete(keys.keys().next().value as string);
    keys.set(kid, { key: publicKey, fetchedAt: now().getTime() });
    return publicKey;
  }

  async function keyOf(plaid: PlaidClient, kid: string): Promise<KeyObject> {
    const cached = keys.get(kid);
    if (cached && now().getTime() - cached.fetchedAt < KEY_CACHE_MS) return cached.key;
    // Concurrent deliveries signed by one new key ask Plaid once.
    let pending = fetching.get(kid);
    if (!pending) {
      pending = fetchKey(plaid, kid).finally(() => fetching.delete(kid));
      fetching.set(kid, pending);
    }
    return pending;
  }

  async function verify(plaid: PlaidClient, raw: Buffer, token: string | undefined): Promise<Verified> {
    if (!token) throw new WebhookRefusal('missing_header');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') throw new WebhookRefusal('malformed_token');
    // Checked before any key is fetched: `none`, HS256 (a public key used as an HMAC secret) and the rest never
    // reach verification.
    if (decoded.header.alg !== 'ES256') throw new WebhookRefusal('wrong_algorithm');
    const kid = decoded.header.kid;
    if (typeof kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(kid)) throw new WebhookRefusal('unknown_key');
    const key = await keyOf(plaid, kid);
    const nowSeconds = Math.floor(now().getTime() / 1000);
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key, {
        algorithms: ['ES256'],
        clockTimestamp: nowSeconds,
        maxAge: MAX_AGE_SECONDS,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw new WebhookRefusal(err instanceof jwt.TokenExpiredError ? 'stale' : 'bad_signature');
    }
    const iat = claims.iat;
    // jsonwebtoken checks the age but not a date in the future: a token from tomorrow is no fresher.
    if (typeof iat !== 'number' || iat > nowSeconds + MAX_AGE_SECONDS) throw new WebhookRefusal('stale');
    const claimed = claims.request_body_sha256;
    const actual = createHash('sha256').update(raw).digest('hex');
    if (
      typeof claimed !== 'string' ||
      claimed.length !== actual.length ||
      !timingSafeEqual(Buffer.from(claimed, 'utf8'), Buffer.from(actual, 'utf8'))
    ) {
      throw new WebhookRefusal('body_mismatch');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new WebhookRefusal('malformed_body');
    }
    const body = PlaidWebhookBody.safeParse(json);
    if (!body.success) throw new WebhookRefusal('malformed_body');
    return { body: body.data, iat, bodySha256: actual };
  }

  async function apply(verified: Verified, type: Handled, log: Logger): Promise<PlaidWebhookAck['outcome']> {
    const { body } = verified;
    const item = body.item_id ? await findItemByPlaidId(db, body.item_id) : undefined;
    if (!item) {
      log.info('Plaid webhook for an item this service does not hold; acknowledged');
      return 'ignored';
    }
    const action = HANDLED[type];
    if (action === 'sync') {
      if (!deps.syncs) {
        log.warn({ itemId: item.id }, 'Plaid sync webhook acknowledged without Redis: no job can run it');
        return 'ignored';
      }
      try {
        // One job per delivery (a redelivery signs anew, so it may make a second job: the sync's lease makes that
        // one more pass at most).
        await deps.syncs.request(item.id, `webhook-${verified.iat}-${verified.bodySha256.slice(0, 16)}`);
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'Plaid sync webhook could not be enqueued');
        throw new UnavailableError('jobs-unavailable', 'Background jobs are unavailable; deliver again later');
      }
      return 'applied';
    }
    const errorCode = body.error?.error_code ?? null;
    const status: ItemStatus =
      action === 'error' ? (errorCode === 'ITEM_LOGIN_REQUIRED' ? 'login_required' : item.status) : action;
    const changed = await db.transaction((tx) =>
      setItemStatus(tx, item.id, { status, errorCode: action === 'healthy' ? null : (errorCode ?? null) }),
    );
    log.info({ itemId: item.id, before: changed?.before, status }, 'bank item status from a Plaid webhook');
    return 'applied';
  }

  return {
    async receive(raw: Buffer, token: string | undefined): Promise<PlaidWebhookAck['outcome']> {
      if (!deps.plaid) throw bankingNotConfigured();
      let verified: Verified;
      try {
        verified = await verify(deps.plaid, raw, token);
      } catch (err) {
        if (!(err instanceof WebhookRefusal)) throw err;
        metrics.webhookFailure('plaid', err.reason);
        metrics.webhookEvent('plaid', 'unverified', 'invalid_signature');
        logger.warn({ reason: err.reason }, 'Plaid webhook refused');
        throw new ValidationError('invalid-signature', 'The Plaid-Verification header does not verify this body');
      }
      const type = `${verified.body.webhook_type}.${verified.body.webhook_code}`;
      const log = logger.child({ plaidWebhook: isHandled(type) ? type : 'other' });
      if (!isHandled(type)) {
        metrics.webhookEvent('plaid', 'other', 'ignored');
        log.info('Plaid webhook of a type this service does not handle; acknowledged');
        return 'ignored';
      }
      try {
        const outcome = await apply(verified, type, log);
        metrics.webhookEvent('plaid', type, outcome);
        return outcome;
      } catch (err) {
        metrics.webhookEvent('plaid', type, 'failed');
        throw err;
      }
    },
  };
}
