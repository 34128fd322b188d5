import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { StripeClient } from '../../platform/stripe.js';
import type { AuditLog } from '../audit/audit.port.js';
import type { PlanPrices } from './subscriptions.plans.js';
import { type AppliedState, applyStripeSubscription } from './subscriptions.sync.js';

export interface ReconcileReport {
  /** Subscriptions Stripe listed. */
  checked: number;
  /** Local rows that differed from Stripe, with what changed; empty on a second run. */
  repaired: AppliedState[];
  /** Subscriptions whose customer has no local row, or whose state a newer webhook had already applied. */
  skipped: number;
}

/**
 * Walks every subscription Stripe has (all statuses, auto-paginated) and writes its state into the local row, as a
 * webhook would: missed or failed deliveries are repaired, rows already right are left alone (idempotent). Each
 * subscription is applied in its own transaction, stamped with the time the walk began: a webhook that applied a
 * state after that moment wins over this (possibly older) listing.
 */
export async function reconcileSubscriptions(deps: {
  db: Db;
  auditLog: AuditLog;
  stripe: StripeClient;
  prices: PlanPrices;
  logger: Logger;
  now: () => Date;
}): Promise<ReconcileReport> {
  const { db, auditLog, stripe, prices, logger } = deps;
  const observedAt = deps.now();
  const report: ReconcileReport = { checked: 0, repaired: [], skipped: 0 };
  for await (const subscription of stripe.subscriptions.list({ status: 'all', limit: 100 })) {
    report.checked += 1;
    const applied = await db.transaction((tx) =>
      applyStripeSubscription(tx, subscription, {
        observedAt,
        cause: { targetType: 'stripe_subscription', targetId: subscription.id },
        prices,
        logger,
        auditLog,
      }),
    );
    if (!applied) report.skipped += 1;
    else if (applied.changes.length > 0) report.repaired.push(applied);
  }
  return report;
}
