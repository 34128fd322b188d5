import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RECONCILE_EVERY_MS } from '../../src/modules/subscriptions/subscriptions.jobs.js';
import { type BillingTestApp, rowOf, startBillingApp, subscribe } from '../modules/subscriptions/billing.helpers.js';
import { startTestApp } from '../support/app.js';
import { startTestJobs } from '../support/jobs.js';
import { subscriptionObject, TEST_PRICES } from '../support/stripe-server.js';

let app: BillingTestApp;
beforeAll(async () => {
  app = await startBillingApp();
});
afterAll(() => app.close());

const now = () => new Date();

describe.runIf(inject('redisUrl'))('the billing reconciliation job', () => {
  it('when billing is configured, is scheduled hourly and repairs drift at its first run; turned off, its scheduler is removed', async () => {
    // Stripe moved the subscription to past_due; the webhook never arrived.
    const drifted = await subscribe(app, 'mid_tier');
    app.stripe.setSubscription(
      subscriptionObject({
        id: drifted.subscription.id,
        customer: drifted.customerId,
        status: 'past_due',
        price: TEST_PRICES.mid_tier,
        currentPeriodEnd: drifted.subscription.items.data[0]?.current_period_end as number,
      }),
    );

    const jobs = await startTestJobs(app.t, { now });
    const queue = jobs.queues.queue('billing');
    try {
      expect((await queue.getJobScheduler('billing.reconcile'))?.every).toBe(RECONCILE_EVERY_MS);
      await expect
        .poll(async () => (await rowOf(app.t, drifted.user.id))?.status, { timeout: 15_000 })
        .toBe('past_due');
      await expect
        .poll(() => jobs.logs().find((l) => l.msg === 'subscription repaired from Stripe'), { timeout: 5_000 })
        .toMatchObject({
          job: 'billing.reconcile',
          stripeSubscriptionId: drifted.subscription.id,
          userId: drifted.user.id,
          changes: ['status:active→past_due'],
        });
      // The next hour's run waits, delayed.
      expect((await queue.getJobs(['delayed'])).map((j) => j.name)).toEqual(['billing.reconcile']);
    } finally {
      await jobs.close();
    }

    // The same service restarted without Stripe settings: no reconciliation is left scheduled, nor waiting.
    const unbilled = await startTestJobs(app.t, {
      now,
      config: (config) => ({ ...config, billing: { ...config.billing, stripe: undefined } }),
    });
    try {
      const after = unbilled.queues.queue('billing');
      expect(await after.getJobScheduler('billing.reconcile')).toBeUndefined();
      expect(await after.getJobs(['waiting', 'delayed', 'prioritized'])).toEqual([]);
      expect(unbilled.jobs.specs.map((s) => s.name)).not.toContain('billing.reconcile');
    } finally {
      await unbilled.close();
    }
  });

  it('when billing is not configured, never schedules it', async () => {
    const t = await startTestApp();
    const jobs = await startTestJobs(t, { now });
    try {
      expect(t.config.billing.stripe).toBeUndefined();
      expect(await jobs.queues.queue('billing').getJobScheduler('billing.reconcile')).toBeUndefined();
      expect(await jobs.queues.queue('maintenance').getJobScheduler('maintenance.run')).toBeDefined();
    } finally {
      await jobs.close();
      await t.close();
    }
  });
});
