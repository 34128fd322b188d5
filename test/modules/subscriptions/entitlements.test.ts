import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cheapestPlanWith,
  FEATURES,
  type Feature,
  PLANS,
} from '../../../src/modules/subscriptions/subscriptions.plans.js';
import { Plan, toPlan } from '../../../src/modules/subscriptions/subscriptions.schemas.js';
import { bearer, registerUser } from '../../support/auth.js';
import { signedEvent, subscriptionObject, TEST_PRICES } from '../../support/stripe-server.js';
import { type BillingTestApp, deliver, startBillingApp, subscribe } from './billing.helpers.js';

let app: BillingTestApp;
beforeAll(async () => {
  app = await startBillingApp();
});
afterAll(() => app.close());

/** The real feature gated now: the check-in summary needs `wellness-insights`. */
const summary = (token: string) => request(app.t.app).get('/api/v1/checkins/summary').set(bearer(token));

describe('the plan table', () => {
  it('when read, puts every feature in some plan, and each plan includes everything of the cheaper ones', () => {
    for (const feature of Object.keys(FEATURES) as Feature[]) expect(() => cheapestPlanWith(feature)).not.toThrow();
    for (const [i, plan] of PLANS.entries()) {
      if (i > 0) expect(plan.features).toEqual(expect.arrayContaining([...(PLANS[i - 1]?.features ?? [])]));
      if (i > 0) expect(plan.priceCents).toBeGreaterThan(PLANS[i - 1]?.priceCents ?? 0);
    }
  });

  it('when shown, each plan fits the bounds the OpenAPI document gives a plan', () => {
    for (const plan of PLANS) expect(Plan.safeParse(toPlan(plan)).error?.issues, plan.id).toBeUndefined();
  });

  it('when asked for the cheapest plan with a feature, names mid_tier for wellness-insights and professional for bank-links', () => {
    expect(cheapestPlanWith('wellness-insights').id).toBe('mid_tier');
    expect(cheapestPlanWith('bank-links').id).toBe('professional');
  });
});

describe("requireEntitlement('wellness-insights') on GET /api/v1/checkins/summary", () => {
  it('when the user has no subscription, answers 403 plan-required naming the cheapest plan with the feature', async () => {
    const user = await registerUser(app.t);
    const res = await summary(user.accessToken);
    expect(res.status).toBe(403);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('https://docs.mingus.app/problems/plan-required');
    expect(res.body.detail).toContain('mid_tier plan');
  });

  it('when the plan does not include the feature (budget), answers 403 naming mid_tier and the current plan', async () => {
    const sub = await subscribe(app, 'budget');
    const res = await summary(sub.user.accessToken);
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('mid_tier plan');
    expect(res.body.detail).toContain('Budget');
  });

  it.each([
    ['mid_tier', 'active'],
    ['professional', 'active'],
    ['mid_tier', 'trialing'],
  ] as const)('when on %s (%s), lets the request through', async (plan, status) => {
    const sub = await subscribe(app, plan, status);
    expect((await summary(sub.user.accessToken)).status).toBe(200);
  });

  it.each(['canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused'] as const)(
    'when the subscription is %s, answers 403',
    async (status) => {
      const sub = await subscribe(app, 'professional', status);
      expect((await summary(sub.user.accessToken)).status).toBe(403);
    },
  );

  it('when a cancellation was scheduled for the period end and the period is over, answers 403 even before Stripe says deleted', async () => {
    const sub = await subscribe(app, 'mid_tier');
    const ending = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'active',
      price: TEST_PRICES.mid_tier,
      cancelAtPeriodEnd: true,
      currentPeriodEnd: Math.floor(Date.now() / 1000) - 1,
    });
    app.stripe.setSubscription(ending);
    expect((await deliver(app.t, signedEvent('customer.subscription.updated', ending))).status).toBe(200);
    expect((await summary(sub.user.accessToken)).status).toBe(403);
  });

  it('when the plan changes, the next request sees it at once', async () => {
    const sub = await subscribe(app, 'budget');
    expect((await summary(sub.user.accessToken)).status).toBe(403);
    const upgraded = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'active',
      price: TEST_PRICES.mid_tier,
    });
    app.stripe.setSubscription(upgraded);
    expect((await deliver(app.t, signedEvent('customer.subscription.updated', upgraded))).status).toBe(200);
    expect((await summary(sub.user.accessToken)).status).toBe(200);
  });
});
