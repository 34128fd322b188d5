import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/http/errors.js';
import { subscriptionsPrivacySection } from '../../../src/modules/subscriptions/subscriptions.privacy.js';
import { createLogger } from '../../../src/platform/logger.js';
import { createStripe } from '../../../src/platform/stripe.js';
import { registerUser } from '../../support/auth.js';
import { invoiceObject, signedEvent, TEST_STRIPE_KEY } from '../../support/stripe-server.js';
import { type BillingTestApp, deliver, rowOf, startBillingApp, subscribe } from './billing.helpers.js';

let app: BillingTestApp;
const logger = createLogger({ level: 'warn', destination: { write: () => undefined } });
const section = () =>
  subscriptionsPrivacySection({ stripe: createStripe({ secretKey: TEST_STRIPE_KEY, apiUrl: app.stripe.url }), logger });

beforeAll(async () => {
  app = await startBillingApp();
});
afterAll(() => app.close());

async function subscriberWithPaidInvoice() {
  const sub = await subscribe(app, 'mid_tier');
  const invoice = invoiceObject({
    customer: sub.customerId,
    subscription: sub.subscription.id,
    status: 'paid',
    amountDueCents: 2000,
    amountPaidCents: 2000,
    periodStart: Date.UTC(2026, 10, 1) / 1000,
    periodEnd: Date.UTC(2026, 11, 1) / 1000,
  });
  expect((await deliver(app.t, signedEvent('invoice.paid', invoice))).status).toBe(200);
  return sub;
}

describe('the billing personal-data section', () => {
  it('when a checkout adds a Stripe customer between the Stripe clean-up and the erasure, refuses to erase (409)', async () => {
    const user = await registerUser(app.t);
    const billing = section();
    await billing.beforeErase?.(app.t.db, user.id); // no customer yet: nothing to end at Stripe
    await app.t.db.prisma.subscription.create({ data: { userId: user.id, stripeCustomerId: `cus_late${Date.now()}` } });
    await expect(app.t.db.transaction((tx) => billing.erase(tx, user.id))).rejects.toMatchObject({
      status: 409,
      code: 'erasure-interrupted',
    });
    expect(await app.t.db.prisma.subscription.count({ where: { userId: user.id } })).toBe(1);
  });

  it('when exporting, gives plan, status and the invoices with dates and amounts, and no Stripe identifiers', async () => {
    const sub = await subscriberWithPaidInvoice();
    const exported = await section().export(app.t.db, sub.user.id);
    expect(exported).toEqual({
      subscription: {
        plan: 'mid_tier',
        status: 'active',
        currentPeriodEnd: expect.any(String),
        cancelAtPeriodEnd: false,
      },
      invoices: [
        {
          recordedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
          periodStart: '2026-11-01',
          periodEnd: '2026-12-01',
          amountDueCents: 2000,
          amountPaidCents: 2000,
          currency: 'usd',
          status: 'paid',
        },
      ],
    });
    expect(JSON.stringify(exported)).not.toMatch(/cus_|sub_|in_/);
  });

  it('when erasing, first cancels the Stripe subscription and deletes the customer; run again (a retry), it still succeeds', async () => {
    const sub = await subscriberWithPaidInvoice();
    await section().beforeErase?.(app.t.db, sub.user.id);
    expect(app.stripe.subscription(sub.subscription.id)?.status).toBe('canceled');
    expect(app.stripe.customers.get(sub.customerId)?.deleted).toBe(true);
    expect(app.stripe.requestsTo('DELETE', `/v1/subscriptions/${sub.subscription.id}`)).toHaveLength(1);

    await expect(section().beforeErase?.(app.t.db, sub.user.id)).resolves.toBeUndefined();
    expect(app.stripe.requestsTo('DELETE', `/v1/customers/${sub.customerId}`)).toHaveLength(2);
  });

  it('when Stripe fails during the clean-up, refuses with 502 billing-upstream-failed and keeps the billing rows', async () => {
    const sub = await subscribe(app, 'budget');
    app.stripe.failures.set(`DELETE /v1/customers/${sub.customerId}`, 500);
    try {
      await expect(section().beforeErase?.(app.t.db, sub.user.id)).rejects.toMatchObject({
        status: 502,
        code: 'billing-upstream-failed',
      });
    } finally {
      app.stripe.failures.clear();
    }
    expect(await rowOf(app.t, sub.user.id)).not.toBeNull();
  });

  it('when a missed webhook left the local row canceled, erasure still cancels what Stripe says is live', async () => {
    const sub = await subscribe(app, 'budget');
    await app.t.db.prisma.subscription.update({ where: { userId: sub.user.id }, data: { status: 'canceled' } });
    await section().beforeErase?.(app.t.db, sub.user.id);
    expect(app.stripe.subscription(sub.subscription.id)?.status).toBe('canceled');
    expect(app.stripe.requestsTo('DELETE', `/v1/subscriptions/${sub.subscription.id}`)).toHaveLength(1);
  });

  it('when erasing, deletes the subscription row and the invoices of the user, and only theirs', async () => {
    const sub = await subscriberWithPaidInvoice();
    const other = await subscriberWithPaidInvoice();
    const billing = section();
    await billing.beforeErase?.(app.t.db, sub.user.id);
    await app.t.db.transaction((tx) => billing.erase(tx, sub.user.id));
    expect(await rowOf(app.t, sub.user.id)).toBeNull();
    expect(await app.t.db.prisma.billingInvoice.count({ where: { userId: sub.user.id } })).toBe(0);
    expect(await rowOf(app.t, other.user.id)).not.toBeNull();
    expect(await app.t.db.prisma.billingInvoice.count({ where: { userId: other.user.id } })).toBe(1);
  });

  it('when the user never subscribed, exports nothing and calls Stripe for nothing', async () => {
    const user = await registerUser(app.t);
    const before = app.stripe.requests.length;
    expect(await section().export(app.t.db, user.id)).toEqual({ subscription: null, invoices: [] });
    await section().beforeErase?.(app.t.db, user.id);
    expect(app.stripe.requests.length).toBe(before);
  });

  it('when billing is no longer configured but the user has a Stripe customer, refuses the erasure (503)', async () => {
    const sub = await subscribe(app, 'budget');
    const unconfigured = subscriptionsPrivacySection({ stripe: undefined, logger });
    await expect(unconfigured.beforeErase?.(app.t.db, sub.user.id)).rejects.toBeInstanceOf(UnavailableError);
    expect(app.stripe.customers.get(sub.customerId)?.deleted).toBe(false);
  });
});
