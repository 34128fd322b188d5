import type Stripe from 'stripe';
import type { Queryable } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditLog } from '../audit/audit.port.js';
import { type PlanPrices, planOfPrice } from './subscriptions.plans.js';
import { lockSubscriptionOfCustomer, type SubscriptionRow, updateSubscriptionState } from './subscriptions.repo.js';

/** Stripe never moves a subscription out of these: once seen, a later-arriving older state cannot undo them. */
const FINAL_STATUSES = new Set(['canceled', 'incomplete_expired']);

export const isFinalStatus = (status: string) => FINAL_STATUSES.has(status);

export interface Observation {
  /** When this state of the subscription was read from Stripe; newer observations win. */
  observedAt: Date;
  /** What the audit entry points at: the Stripe event applied, or the subscription a reconciliation repaired. */
  cause: { targetType: 'stripe_event' | 'stripe_subscription'; targetId: string };
}

export interface AppliedState {
  userId: string;
  stripeSubscriptionId: string;
  /** What changed, as `field:from→to`; empty when the row already said the same. */
  changes: string[];
}

/**
 * Writes what Stripe says of a subscription into the local row of its customer, inside the caller's transaction.
 * Order independent: the row is locked, an observation older than the one stored is skipped, a final status is
 * never undone, and an event about a customer's other, ended subscription does not overwrite the one tracked.
 * Undefined when nothing was written: no local row for the customer (not ours), or the observation is superseded.
 * State changes (status, plan, cancellation) are audited in the same transaction.
 */
export async function applyStripeSubscription(
  tx: Queryable,
  subscription: Stripe.Subscription,
  ctx: Observation & { prices: PlanPrices; logger: Logger; auditLog: AuditLog },
): Promise<AppliedState | undefined> {
  const customerId = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const row = await lockSubscriptionOfCustomer(tx, customerId);
  if (!row) {
    ctx.logger.warn({ stripeSubscriptionId: subscription.id }, 'Stripe subscription of a customer with no local row');
    return undefined;
  }
  if (supersedes(row, subscription, ctx.observedAt) === false) return undefined;

  const next = stateOf(subscription, ctx.prices, ctx.logger);
  const pastDueSince =
    next.status !== 'past_due'
      ? null
      : row.status === 'past_due' && row.pastDueSince
        ? row.pastDueSince
        : ctx.observedAt;
  const changes = [
    change('subscription', row.stripeSubscriptionId, subscription.id),
    change('status', row.status, next.status),
    change('plan', row.plan, next.plan),
    change('cancel_at_period_end', row.cancelAtPeriodEnd, next.cancelAtPeriodEnd),
    change('current_period_end', row.currentPeriodEnd?.toISOString(), next.currentPeriodEnd?.toISOString()),
  ].filter((c): c is string => c !== undefined);

  // Written even when nothing changed: the newer observation time is what later, older ones are compared with.
  await updateSubscriptionState(tx, row.id, {
    stripeSubscriptionId: subscription.id,
    ...next,
    pastDueSince,
    stripeObjectUpdatedAt: ctx.observedAt,
  });
  const audited = changes.filter((c) => /^(status|plan|cancel_at_period_end):/.test(c));
  if (audited.length > 0) {
    await ctx.auditLog.record(tx, { action: 'subscription.change', userId: row.userId, ...ctx.cause, fields: audited });
  }
  return { userId: row.userId, stripeSubscriptionId: subscription.id, changes };
}

/** False when the stored state must be kept over this one. */
function supersedes(row: SubscriptionRow, subscription: Stripe.Subscription, observedAt: Date): boolean {
  if (row.stripeSubscriptionId && row.stripeSubscriptionId !== subscription.id) {
    // A customer's other subscription: an ended one says nothing about the one tracked; a live one is the one to
    // track from now on (a new checkout after a cancellation; checkout refuses a second live one).
    return !isFinalStatus(subscription.status);
  }
  if (
    row.stripeSubscriptionId === subscription.id &&
    isFinalStatus(row.status) &&
    !isFinalStatus(subscription.status)
  ) {
    return false;
  }
  return !row.stripeObjectUpdatedAt || row.stripeObjectUpdatedAt <= observedAt;
}

function stateOf(subscription: Stripe.Subscription, prices: PlanPrices, logger: Logger) {
  const items = subscription.items.data;
  const planned = items
    .map((item) => ({ item, plan: planOfPrice(prices, item.price.id) }))
    .find((entry) => entry.plan !== undefined);
  if (!planned && items.length > 0) {
    // A price this service does not sell (created in the dashboard by hand?): the customer gets no features.
    logger.warn({ stripeSubscriptionId: subscription.id }, 'Stripe subscription with no price of a known plan');
  }
  const item = planned?.item ?? items[0];
  return {
    plan: planned?.plan ?? null,
    status: subscription.status,
    // Since API version 2025-03-31 the billing period belongs to each item, not to the subscription.
    currentPeriodEnd: item ? new Date(item.current_period_end * 1000) : null,
    // The billing portal schedules a cancellation with `cancel_at` (at the period end) in recent API versions.
    cancelAtPeriodEnd: subscription.cancel_at_period_end || subscription.cancel_at !== null,
  };
}

function change(field: string, from: string | boolean | null | undefined, to: string | boolean | null | undefined) {
  const a = from ?? 'none';
  const b = to ?? 'none';
  return a === b ? undefined : `${field}:${a}→${b}`;
}
