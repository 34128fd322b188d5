import { z } from 'zod';
import { defineJob, PermanentJobError } from '../../platform/jobs.js';
import type { BillingReconciler } from './subscriptions.reconciler.js';

/** The job's identity, for whoever lists its jobs without running them (the admin's failed jobs). */
export const RECONCILE_JOB = { name: 'billing.reconcile', queue: 'billing', payload: z.strictObject({}) } as const;

/** Hourly: a lost webhook is repaired within the hour, while Stripe itself retries for 3 days. */
export const RECONCILE_EVERY_MS = 60 * 60_000;

/**
 * `billing.reconcile`: the walk of `npm run billing:reconcile`, hourly from a scheduler in Redis. Without billing
 * configured there is no reconciler: no worker takes the job and its scheduler is removed (src/jobs.ts), so
 * turning billing off stops it. One attempt: the walk is idempotent and the next hour's run catches up.
 */
export function billingJobs(reconciler: BillingReconciler | undefined) {
  const reconcile = defineJob({
    ...RECONCILE_JOB,
    attempts: 1,
    async run(_payload, ctx) {
      if (!reconciler) throw new PermanentJobError('billing-not-configured', 'STRIPE_SECRET_KEY is not set');
      const report = await reconciler.run(ctx.logger);
      // A repair means a webhook was lost or refused: worth a look when it happens often.
      for (const row of report.repaired) {
        ctx.logger.warn(
          { stripeSubscriptionId: row.stripeSubscriptionId, userId: row.userId, changes: row.changes },
          'subscription repaired from Stripe',
        );
      }
      ctx.logger.info(
        { checked: report.checked, repaired: report.repaired.length, skipped: report.skipped },
        'billing reconciled',
      );
    },
  });
  return { reconcile, enabled: reconciler !== undefined };
}
