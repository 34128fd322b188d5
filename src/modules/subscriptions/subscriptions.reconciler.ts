import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import { createStripe, type StripeOptions } from '../../platform/stripe.js';
import { createAuditLog } from '../audit/audit.port.js';
import type { PlanPrices } from './subscriptions.plans.js';
import { type ReconcileReport, reconcileSubscriptions } from './subscriptions.reconcile.js';

export type BillingReconciler = ReturnType<typeof createBillingReconciler>;

/**
 * Reconciliation as `npm run billing:reconcile` and the hourly `billing.reconcile` job run it: Stripe's subscriptions
 * walked with the configured key, each drifted local row repaired and audited as a webhook would (see
 * `reconcileSubscriptions`).
 */
export function createBillingReconciler(deps: {
  db: Db;
  billing: StripeOptions & { prices: PlanPrices };
  now: () => Date;
}) {
  const stripe = createStripe(deps.billing);
  const auditLog = createAuditLog();
  return {
    run(logger: Logger): Promise<ReconcileReport> {
      return reconcileSubscriptions({
        db: deps.db,
        auditLog,
        stripe,
        prices: deps.billing.prices,
        logger,
        now: deps.now,
      });
    },
  };
}
