import { createHash } from 'node:crypto';
import type { Config } from '../../config/config.js';
import { ConflictError, HttpError, UnavailableError } from '../../http/errors.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { StripeClient } from '../../platform/stripe.js';
import type { AuditLog } from '../audit/audit.port.js';
import type { UsersService } from '../users/users.service.js';
import { graceEndsAt, planInEffect } from './subscriptions.entitlements.js';
import { PLANS, type PlanId, planById } from './subscriptions.plans.js';
import { findSubscriptionOfUser, insertCustomerOnce } from './subscriptions.repo.js';
import {
  type CheckoutBody,
  type MySubscription,
  type PlanList,
  type RedirectUrl,
  toPlan,
} from './subscriptions.schemas.js';
import { isFinalStatus } from './subscriptions.sync.js';

export type BillingConfig = Config['billing'];
export type StripeBillingConfig = NonNullable<BillingConfig['stripe']>;

export interface SubscriptionsServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  billing: BillingConfig;
  /** Absent exactly when billing is not configured. */
  stripe: StripeClient | undefined;
  users: Pick<UsersService, 'me'>;
  /** Throws 403 `email-unverified` unless the account's address is verified (the auth module's rule). */
  assertEmailVerified: (userId: string) => Promise<void>;
  logger: Logger;
  now: () => Date;
}

export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;

export const billingNotConfigured = () =>
  new UnavailableError('billing-not-configured', 'Billing is not configured on this server');

/** A Stripe failure is the client's 502, never a 500; logged without the request's parameters. */
export function stripeFailed(logger: Logger, what: string, err: unknown): HttpError<502> {
  const { type, code, statusCode, requestId } = err as Record<string, unknown>;
  logger.error(
    { err: { message: (err as Error).message, type, code, statusCode, requestId } },
    `Stripe ${what} failed`,
  );
  return new HttpError(502, 'billing-upstream-failed', 'The payment provider could not be reached; retry shortly');
}

export function createSubscriptionsService(deps: SubscriptionsServiceDeps) {
  const { db, auditLog, billing, users, logger, now } = deps;

  function configured(): { stripe: StripeClient; settings: StripeBillingConfig } {
    if (!deps.stripe || !billing.stripe) throw billingNotConfigured();
    return { stripe: deps.stripe, settings: billing.stripe };
  }

  async function upstream<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw stripeFailed(logger, what, err);
    }
  }

  /**
   * The user's Stripe customer, created once. The Stripe idempotency key is derived from the user (and from what is
   * sent, since Stripe refuses one key with other parameters), so two racing checkouts get the same customer back
   * from Stripe; the unique insert then keeps exactly one. Should Stripe ever answer two customers (the key expires
   * after 24 h), the loser of the insert uses the winner's and deletes its own.
   */
  async function customerOf(userId: string, stripe: StripeClient): Promise<string> {
    const user = await users.me(userId);
    const params = { email: user.email, ...(user.name ? { name: user.name } : {}), metadata: { userId } };
    const digest = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16);
    const customer = await upstream('customer creation', () =>
      stripe.customers.create(params, { idempotencyKey: `mingus-customer-${userId}-${digest}` }),
    );
    if (await insertCustomerOnce(db, userId, customer.id)) return customer.id;
    const winner = await findSubscriptionOfUser(db, userId);
    if (!winner) throw new Error('subscription row vanished between insert and read');
    if (winner.stripeCustomerId !== customer.id) {
      await stripe.customers.del(customer.id).catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error).message } }, 'could not delete a duplicate Stripe customer');
      });
    }
    return winner.stripeCustomerId;
  }

  return {
    /** Throws 503 `billing-not-configured` when Stripe is not set up. */
    assertConfigured(): void {
      configured();
    },

    plans(): PlanList {
      return { data: PLANS.map(toPlan), nextCursor: null };
    },

    async me(userId: string): Promise<MySubscription> {
      configured();
      const row = await findSubscriptionOfUser(db, userId);
      const plan = planInEffect(row, billing.graceDays, now());
      return {
        plan: row?.plan ?? null,
        status: row?.stripeSubscriptionId ? row.status : 'none',
        currentPeriodEnd: row?.currentPeriodEnd?.toISOString() ?? null,
        cancelAtPeriodEnd: row?.cancelAtPeriodEnd ?? false,
        graceEndsAt:
          row?.status === 'past_due' && row.pastDueSince
            ? graceEndsAt(row.pastDueSince, billing.graceDays).toISOString()
            : null,
        features: plan ? [...planById(plan).features] : [],
      };
    },

    async checkout(userId: string, input: CheckoutBody, ctx: RequestContext): Promise<RedirectUrl> {
      const { stripe, settings } = configured();
      await deps.assertEmailVerified(userId);
      const plan: PlanId = input.plan;
      const row = await findSubscriptionOfUser(db, userId);
      if (row?.stripeSubscriptionId && !isFinalStatus(row.status)) {
        throw new ConflictError(
          'already-subscribed',
          'You already have a subscription; change or cancel it in the billing portal (POST /subscriptions/portal)',
        );
      }
      const customer = row?.stripeCustomerId ?? (await customerOf(userId, stripe));
      const session = await upstream('checkout session creation', () =>
        stripe.checkout.sessions.create({
          mode: 'subscription',
          customer,
          client_reference_id: userId,
          line_items: [{ price: settings.prices[plan], quantity: 1 }],
          success_url: settings.successUrl,
          cancel_url: settings.cancelUrl,
          metadata: { userId, plan },
          subscription_data: { metadata: { userId, plan } },
        }),
      );
      if (!session.url)
        throw new HttpError(502, 'billing-upstream-failed', 'The payment provider sent no checkout URL');
      await auditLog.record(db, {
        action: 'subscription.checkout',
        userId,
        targetType: 'stripe_checkout_session',
        targetId: session.id,
        fields: [`plan:${plan}`],
        ip: ctx.ip,
        requestId: ctx.requestId,
      });
      return { url: session.url };
    },

    async portal(userId: string): Promise<RedirectUrl> {
      const { stripe, settings } = configured();
      const row = await findSubscriptionOfUser(db, userId);
      if (!row) {
        throw new ConflictError(
          'no-billing-account',
          'You have no billing account yet; subscribe through checkout first',
        );
      }
      const session = await upstream('billing portal session creation', () =>
        stripe.billingPortal.sessions.create({ customer: row.stripeCustomerId, return_url: settings.portalReturnUrl }),
      );
      return { url: session.url };
    },
  };
}
