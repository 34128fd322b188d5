import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser } from '../../support/auth.js';
import { runCli } from '../../support/cli.js';
import { billingEnv, subscriptionObject, TEST_PRICES } from '../../support/stripe-server.js';
import { type BillingTestApp, changeAudits, rowOf, startBillingApp, subscribe } from './billing.helpers.js';

let app: BillingTestApp;
beforeAll(async () => {
  app = await startBillingApp();
});
afterAll(() => app.close());

/** The real command in its own process, against the app's database and the local Stripe server. */
function reconcile(extraEnv: Record<string, string> = {}) {
  return runCli('billing-reconcile', [], { DATABASE_URL: app.t.database.url, ...billingEnv(app.stripe), ...extraEnv });
}

describe('npm run billing:reconcile', { timeout: 60_000 }, () => {
  it('when rows drifted from Stripe (missed webhooks), repairs them, prints what changed, and changes nothing on a second run', async () => {
    // Drift 1: Stripe moved the subscription to past_due and canceled at period end; no webhook arrived.
    const drifted = await subscribe(app, 'mid_tier');
    const pastDue = subscriptionObject({
      id: drifted.subscription.id,
      customer: drifted.customerId,
      status: 'past_due',
      price: TEST_PRICES.professional,
      cancelAtPeriodEnd: true,
      currentPeriodEnd: drifted.subscription.items.data[0]?.current_period_end as number,
    });
    app.stripe.setSubscription(pastDue);
    // Drift 2: the checkout completed at Stripe, but checkout.session.completed never arrived.
    const missed = await registerUser(app.t);
    await request(app.t.app)
      .post('/api/v1/subscriptions/checkout')
      .set(bearer(missed.accessToken))
      .send({ plan: 'budget' });
    const missedRow = await rowOf(app.t, missed.id);
    const created = subscriptionObject({
      customer: missedRow?.stripeCustomerId ?? '',
      status: 'active',
      price: TEST_PRICES.budget,
    });
    app.stripe.setSubscription(created);
    // In sync already, and a subscription of a customer this service does not know.
    const inSync = await subscribe(app, 'budget');
    app.stripe.setSubscription(
      subscriptionObject({ customer: 'cus_elsewhere01', status: 'active', price: TEST_PRICES.budget }),
    );

    const first = await reconcile();
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toContain(
      `repaired ${drifted.subscription.id} (user ${drifted.user.id}): status:active→past_due, plan:mid_tier→professional, cancel_at_period_end:false→true`,
    );
    expect(
      lines.some((l) =>
        l.startsWith(
          `repaired ${created.id} (user ${missed.id}): subscription:none→${created.id}, status:incomplete→active, plan:none→budget`,
        ),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.includes(inSync.subscription.id))).toBe(false);
    expect(lines.at(-1)).toBe(
      'checked 4 Stripe subscriptions; repaired 2 local rows; 1 skipped (no local account, or a newer webhook)',
    );

    expect(await rowOf(app.t, drifted.user.id)).toMatchObject({
      status: 'past_due',
      plan: 'professional',
      cancelAtPeriodEnd: true,
    });
    expect(await rowOf(app.t, missed.id)).toMatchObject({
      stripeSubscriptionId: created.id,
      status: 'active',
      plan: 'budget',
    });
    expect((await changeAudits(app.t, drifted.user.id)).at(-1)).toEqual({
      targetType: 'stripe_subscription',
      targetId: drifted.subscription.id,
      fields: ['status:active→past_due', 'plan:mid_tier→professional', 'cancel_at_period_end:false→true'],
    });

    const second = await reconcile();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(
      'checked 4 Stripe subscriptions; repaired 0 local rows; 1 skipped (no local account, or a newer webhook)\n',
    );
    expect(await changeAudits(app.t, drifted.user.id)).toHaveLength(2);
  });

  it('when billing is not configured, exits 1 and says so', async () => {
    const res = await reconcile({ STRIPE_SECRET_KEY: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('billing is not configured');
  });
});
