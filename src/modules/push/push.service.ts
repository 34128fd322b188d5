import { randomUUID } from 'node:crypto';
import { NotFoundError, UnprocessableError } from '../../http/errors.js';
import type { RequestContext } from '../../http/request-context.js';
import { type FieldCipher, FieldDecryptionError, fieldContext } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import {
  deleteBeyond,
  deleteSubscription,
  deleteSubscriptionOf,
  deliveryRowsOf,
  listSubscriptions,
  lockEndpoint,
  lockUserForSubscriptionChange,
  setSubscriptionKeys,
  upsertSubscription,
} from './push.repo.js';
import {
  MAX_PUSH_SUBSCRIPTIONS_PER_USER,
  type PushSubscription,
  type PushSubscriptionList,
  type RegisterPushSubscriptionBody,
} from './push.schemas.js';

export interface PushServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  cipher: FieldCipher;
  /** The VAPID public key (base64url) that browsers subscribe with. */
  publicKey: string;
  /**
   * Refuse endpoints that cannot be a public push service (an address, `localhost`, a port other than 443): the
   * worker POSTs to whatever is registered, so an endpoint is a request this service makes on a user's behalf, and
   * one into the private network must not be accepted. True in production; the tests' push service is on 127.0.0.1.
   */
  publicEndpointsOnly: boolean;
  now: () => Date;
}

/** A subscription as delivery sends to it: its endpoint and keys, decrypted. */
export interface PushTarget {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export type PushService = ReturnType<typeof createPushService>;

/**
 * `keys_enc` holds `{p256dh, auth}` as JSON, bound to the owner and the row (a moved subscription is encrypted again;
 * keys copied into another row do not decrypt there).
 */
const keysContext = (userId: string) => fieldContext('push_subscriptions', 'keys_enc', userId);

const TARGET = 'push_subscription';

export function createPushService(deps: PushServiceDeps) {
  const { db, auditLog, cipher, now } = deps;
  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId });

  function decryptKeys(userId: string, id: string, keysEnc: string): PushTarget['keys'] {
    const text = cipher.decrypt(keysEnc, keysContext(userId), id);
    let keys: Partial<PushTarget['keys']> | null;
    try {
      keys = JSON.parse(text) as Partial<PushTarget['keys']> | null;
    } catch {
      throw new FieldDecryptionError('malformed');
    }
    if (typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string') throw new FieldDecryptionError('malformed');
    return { p256dh: keys.p256dh, auth: keys.auth };
  }

  return {
    /**
     * Registers the browser's subscription, or takes over the one at its endpoint: an endpoint is one device, and
     * whoever signs in on it last gets its pushes (the earlier account loses it, with an audit entry of its own).
     * `created` is false when the endpoint was already registered, to this user or another.
     *
     * At the cap, registering removes the oldest subscription rather than refusing: browsers drop subscriptions
     * without telling the server (a cleared profile, an uninstalled app), and the dead ones are only found when a
     * push to them fails, so a user could otherwise be locked out of adding the device in their hand by entries they
     * cannot recognise. The oldest is the one least recently registered, since every registration renews it.
     */
    async register(
      userId: string,
      input: RegisterPushSubscriptionBody,
      ctx: RequestContext,
    ): Promise<{ created: boolean; subscription: PushSubscription }> {
      const refusal = deps.publicEndpointsOnly ? privateEndpointProblem(input.endpoint) : undefined;
      if (refusal) {
        throw new UnprocessableError('validation-failed', 'The request has invalid fields', [
          { path: 'body.endpoint', message: refusal },
        ]);
      }
      const at = now();
      const keys = JSON.stringify({ p256dh: input.keys.p256dh, auth: input.keys.auth });
      const sealFor = (id: string) => cipher.encrypt(keys, keysContext(userId), id);

      return db.transaction(async (tx) => {
        if (!(await lockUserForSubscriptionChange(tx, userId))) {
          throw new NotFoundError('not-found', 'The account no longer exists');
        }
        const previous = await lockEndpoint(tx, input.endpoint);
        // The keys are bound to the row: its id is known (the row at the endpoint) or made here. A registration of the
        // same new endpoint committing in between makes the upsert keep that row's id: the keys are sealed again for it.
        const intended = previous?.id ?? randomUUID();
        const id = await upsertSubscription(tx, {
          id: intended,
          userId,
          endpoint: input.endpoint,
          keysEnc: sealFor(intended),
          at,
        });
        if (id !== intended) await setSubscriptionKeys(tx, id, sealFor(id));
        // Renewed by its own user: not a change worth an entry (clients register again on every start).
        if (previous?.userId !== userId) {
          await auditLog.record(tx, {
            action: 'push_subscription.create',
            userId,
            targetType: TARGET,
            targetId: id,
            ...audit(ctx),
          });
        }
        if (previous && previous.userId !== userId) {
          // No address nor request id: they are the other account's, and this entry is exported to the earlier one.
          await auditLog.record(tx, {
            action: 'push_subscription.delete',
            userId: previous.userId,
            targetType: TARGET,
            targetId: id,
          });
        }
        for (const evicted of await deleteBeyond(tx, userId, MAX_PUSH_SUBSCRIPTIONS_PER_USER, id)) {
          await auditLog.record(tx, {
            action: 'push_subscription.delete',
            userId,
            targetType: TARGET,
            targetId: evicted,
            ...audit(ctx),
          });
        }
        return {
          created: previous === undefined,
          subscription: { id, endpointOrigin: new URL(input.endpoint).origin, createdAt: at.toISOString() },
        };
      });
    },

    /** Every subscription of the user, newest first, by the origin of its push service only; and the VAPID key. */
    async list(userId: string): Promise<PushSubscriptionList> {
      const rows = await listSubscriptions(db, userId, MAX_PUSH_SUBSCRIPTIONS_PER_USER);
      return {
        publicKey: deps.publicKey,
        data: rows.map((r) => ({
          id: r.id,
          endpointOrigin: new URL(r.endpoint).origin,
          createdAt: r.createdAt.toISOString(),
        })),
      };
    },

    /** A subscription that is not the caller's is "not found", whether or not it exists. */
    async unregister(userId: string, id: string, ctx: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await deleteSubscriptionOf(tx, userId, id))) throw new NotFoundError('not-found', 'No such subscription');
        await auditLog.record(tx, {
          action: 'push_subscription.delete',
          userId,
          targetType: TARGET,
          targetId: id,
          ...audit(ctx),
        });
      });
    },

    /** The user's subscriptions with their keys, for sending; a value that does not decrypt throws, never guesses. */
    async subscriptionsOf(userId: string): Promise<PushTarget[]> {
      const rows = await deliveryRowsOf(db, userId);
      return rows.map((r) => ({ id: r.id, endpoint: r.endpoint, keys: decryptKeys(r.userId, r.id, r.keysEnc) }));
    },

    /**
     * Forgets a subscription its push service answered 404 or 410 for: it will never deliver again. Not audited: the
     * user did nothing, and a browser that subscribes again registers anew.
     */
    async removeGone(subscriptionId: string): Promise<void> {
      await deleteSubscription(db, subscriptionId);
    },
  };
}

/** Names no push service could be on: special-use and private suffixes (RFC 6761, RFC 8375, ICANN's `.internal`). */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|home\.arpa|lan|intranet|corp|test|invalid|example)$/;

/**
 * Why `endpoint` cannot be a public push service, or undefined. Browsers' push services (FCM, Mozilla, Apple,
 * Windows) are reached by a domain name on port 443. What a public name resolves to is not checked here (it can
 * change after the check): keeping the worker out of the private network is the network's egress policy's job.
 */
function privateEndpointProblem(endpoint: string): string | undefined {
  const url = new URL(endpoint);
  if (url.port !== '') return 'must use the default https port';
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  // The URL parser writes every IPv4 spelling (`2130706433`, `0x7f.1`) as dotted decimal, and IPv6 in brackets.
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return 'must name its push service by domain, not by address';
  if (!host.includes('.') || PRIVATE_NAME.test(host)) return 'must be on a public push service';
  return undefined;
}
