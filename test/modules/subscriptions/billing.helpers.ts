import type Stripe from 'stripe';
import request from 'supertest';
import type { PlanId } from '../../../src/modules/subscriptions/subscriptions.plans.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import {
  billingEnv,
  type SignedEvent,
  type StripeServer,
  signedEvent,
  startStripeServer,
  subscriptionObject,
  TEST_PRICES,
} from '../../support/stripe-server.js';

export const WEBHOOK = '/api/v1/webhooks/stripe';

/** A settable clock, for grace periods and signature ages. */
export function testClock(start = new Date('2026-11-25T12:00:00.000Z')) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
  };
}

export interface BillingTestApp {
  t: TestApp;
  stripe: StripeServer;
  close(): Promise<void>;
}

/** The real app with billing configured against a local Stripe-compatible server. */
export async function startBillingApp(options: TestAppOptions = {}): Promise<BillingTestApp> {
  const stripe = await startStripeServer();
  const t = await startTestApp({ ...options, env: { ...billingEnv(stripe), ...options.env } });
  return {
    t,
    stripe,
    async close() {
      await t.close();
      await stripe.close();
    },
  };
}

export function deliver(t: TestApp, event: SignedEvent) {
  return request(t.app)
    .post(WEBHOOK)
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', event.signature)
    .send(event.payload);
}

export interface Subscriber {
  user: SignedInUser;
  customerId: string;
  subscription: Stripe.Subscription;
}

/**
 * A user who went through checkout (the customer is created through the API) and whose subscription Stripe now
 * holds in `status`, applied by delivering `checkout.session.completed` as Stripe would.
 */
export async function subscribe(
  app: BillingTestApp,
  plan: PlanId,
  status: Stripe.Subscription.Status = 'active',
  at?: Date,
): Promise<Subscriber> {
  const { t, stripe } = app;
  const user = await registerUser(t);
  const checkout = await request(t.app)
    .post('/api/v1/subscriptions/checkout')
    .set(bearer(user.accessToken))
    .send({ plan });
  if (checkout.status !== 201) throw new Error(`checkout failed: ${checkout.status} ${JSON.stringify(checkout.body)}`);
  const row = await t.db.prisma.subscription.findUniqueOrThrow({ where: { userId: user.id } });
  const subscription = subscriptionObject({ customer: row.stripeCustomerId, status, price: TEST_PRICES[plan] });
  stripe.setSubscription(subscription);
  const completed = signedEvent(
    'checkout.session.completed',
    {
      id: 'cs_test_completed',
      object: 'checkout.session',
      mode: 'subscription',
      customer: row.stripeCustomerId,
      client_reference_id: user.id,
      subscription: subscription.id,
    },
    at ? { at } : {},
  );
  const res = await deliver(t, completed);
  if (res.status !== 200)
    throw new Error(`checkout.session.completed failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { user, customerId: row.stripeCustomerId, subscription };
}

export const rowOf = (t: TestApp, userId: string) => t.db.prisma.subscription.findUnique({ where: { userId } });

export const changeAudits = (t: TestApp, userId: string) =>
  t.db.prisma.auditLog.findMany({
    where: { userId, action: 'subscription.change' },
    orderBy: { createdAt: 'asc' },
    select: { targetType: true, targetId: true, fields: true },
  });
