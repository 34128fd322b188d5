import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser } from '../../support/auth.js';
import { signedEvent, TEST_PRICES } from '../../support/stripe-server.js';
import { type BillingTestApp, deliver, rowOf, startBillingApp, subscribe } from './billing.helpers.js';

const BASE = '/api/v1/subscriptions';
let app: BillingTestApp;
beforeAll(async () => {
  app = await startBillingApp();
});
afterAll(() => app.close());

const checkout = (token: string, body: unknown) =>
  request(app.t.app)
    .post(`${BASE}/checkout`)
    .set(bearer(token))
    .send(body as object);

describe('GET /api/v1/subscriptions/plans', () => {
  it('when anonymous, lists the three plans cheapest first with prices in cents and their features', async () => {
    const res = await request(app.t.app).get(`${BASE}/plans`);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data.map((p: { id: string; priceCents: number }) => [p.id, p.priceCents])).toEqual([
      ['budget', 1000],
      ['mid_tier', 2000],
      ['professional', 5000],
    ]);
    for (const plan of res.body.data) expect(plan).toMatchObject({ currency: 'usd', interval: 'month' });
    expect(res.body.data[1].features).toContain('wellness-insights');
    expect(res.body.data[0].features).not.toContain('wellness-insights');
  });
});

describe('POST /api/v1/subscriptions/checkout', () => {
  it('when signed in, creates the customer and a subscription Checkout Session, stores the customer and answers its URL', async () => {
    const user = await registerUser(app.t, { name: 'Ann Lee' });
    const res = await checkout(user.accessToken, { plan: 'mid_tier' });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);

    const row = await rowOf(app.t, user.id);
    expect(row).toMatchObject({ stripeSubscriptionId: null, plan: null, status: 'incomplete' });
    const customer = app.stripe.customers.get(row?.stripeCustomerId ?? '');
    expect(customer).toMatchObject({ email: user.email, name: 'Ann Lee', metadata: { userId: user.id } });

    const session = app.stripe.requestsTo('POST', '/v1/checkout/sessions').at(-1);
    expect(session?.form).toMatchObject({
      mode: 'subscription',
      customer: row?.stripeCustomerId,
      client_reference_id: user.id,
      'line_items[0][price]': TEST_PRICES.mid_tier,
      'line_items[0][quantity]': '1',
      success_url: 'https://app.mingus.test/billing/success',
      cancel_url: 'https://app.mingus.test/billing/cancel',
    });
    const audit = await app.t.db.prisma.auditLog.findFirst({
      where: { userId: user.id, action: 'subscription.checkout' },
    });
    expect(audit).toMatchObject({ targetType: 'stripe_checkout_session', fields: ['plan:mid_tier'] });
  });

  it('when the user checks out again before paying, reuses the stored customer', async () => {
    const user = await registerUser(app.t);
    expect((await checkout(user.accessToken, { plan: 'budget' })).status).toBe(201);
    const customersBefore = app.stripe.requestsTo('POST', '/v1/customers').length;
    expect((await checkout(user.accessToken, { plan: 'professional' })).status).toBe(201);
    expect(app.stripe.requestsTo('POST', '/v1/customers').length).toBe(customersBefore);
  });

  it('when two checkouts race, one customer is created at Stripe and stored, and both sessions use it', async () => {
    const user = await registerUser(app.t);
    const before = app.stripe.customers.size;
    const [a, b] = await Promise.all([
      checkout(user.accessToken, { plan: 'budget' }),
      checkout(user.accessToken, { plan: 'budget' }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(app.stripe.customers.size).toBe(before + 1);
    const row = await rowOf(app.t, user.id);
    const sessions = app.stripe
      .requestsTo('POST', '/v1/checkout/sessions')
      .filter((s) => s.form.client_reference_id === user.id);
    expect(sessions.map((s) => s.form.customer)).toEqual([row?.stripeCustomerId, row?.stripeCustomerId]);
    // This user's requests only: another test's late request (an SDK retry) may land in between. One or two
    // creations reached Stripe (the second checkout may already find the stored customer), under one key.
    const keys = app.stripe
      .requestsTo('POST', '/v1/customers')
      .map((r) => r.idempotencyKey)
      .filter((key) => key?.startsWith(`mingus-customer-${user.id}-`));
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(keys).size).toBe(1);
  });

  it('when Stripe no longer honours the key and answers two customers, one is stored, both sessions use it and the other is deleted', async () => {
    const user = await registerUser(app.t);
    app.stripe.honourIdempotencyKeys = false;
    try {
      const answers = await Promise.all([
        checkout(user.accessToken, { plan: 'budget' }),
        checkout(user.accessToken, { plan: 'budget' }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([201, 201]);
    } finally {
      app.stripe.honourIdempotencyKeys = true;
    }
    const row = await rowOf(app.t, user.id);
    const created = [...app.stripe.customers.values()].filter((c) => c.metadata.userId === user.id);
    expect(created).toHaveLength(2);
    expect(created.filter((c) => !c.deleted).map((c) => c.id)).toEqual([row?.stripeCustomerId]);
    const sessions = app.stripe.requestsTo('POST', '/v1/checkout/sessions').slice(-2);
    expect(sessions.map((s) => s.form.customer)).toEqual([row?.stripeCustomerId, row?.stripeCustomerId]);
  });

  it('when the plan is unknown, answers 422 and calls Stripe for nothing', async () => {
    const user = await registerUser(app.t);
    const before = app.stripe.requests.length;
    for (const body of [{ plan: 'platinum' }, {}, { plan: 'budget', priceCents: 1 }]) {
      const res = await checkout(user.accessToken, body);
      expect(res.status).toBe(422);
      expect(res.type).toBe('application/problem+json');
    }
    expect(app.stripe.requests.length).toBe(before);
    expect(await rowOf(app.t, user.id)).toBeNull();
  });

  it('when already subscribed, answers 409 already-subscribed', async () => {
    const sub = await subscribe(app, 'budget');
    const res = await checkout(sub.user.accessToken, { plan: 'professional' });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://docs.mingus.app/problems/already-subscribed');
  });

  it('when the earlier subscription was canceled, lets the user subscribe again with the same customer', async () => {
    const sub = await subscribe(app, 'budget');
    const canceled = { ...sub.subscription, status: 'canceled' } as typeof sub.subscription;
    app.stripe.setSubscription(canceled);
    expect((await deliver(app.t, signedEvent('customer.subscription.deleted', canceled))).status).toBe(200);
    const res = await checkout(sub.user.accessToken, { plan: 'mid_tier' });
    expect(res.status).toBe(201);
    expect(app.stripe.requestsTo('POST', '/v1/checkout/sessions').at(-1)?.form.customer).toBe(sub.customerId);
  });

  it('when Stripe fails, answers 502 billing-upstream-failed and stores nothing', async () => {
    const user = await registerUser(app.t);
    app.stripe.failures.set('POST /v1/customers', 500);
    try {
      const res = await checkout(user.accessToken, { plan: 'budget' });
      expect(res.status).toBe(502);
      expect(res.body.type).toBe('https://docs.mingus.app/problems/billing-upstream-failed');
    } finally {
      app.stripe.failures.clear();
    }
    expect(await rowOf(app.t, user.id)).toBeNull();
  });

  it('when not signed in, answers 401; with a personal API key (read-only), 403', async () => {
    expect((await request(app.t.app).post(`${BASE}/checkout`).send({ plan: 'budget' })).status).toBe(401);
    const user = await registerUser(app.t);
    const key = await request(app.t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'k', password: user.password });
    expect((await checkout(key.body.key, { plan: 'budget' })).status).toBe(403);
  });
});

describe('POST /api/v1/subscriptions/portal', () => {
  it('when the user has a customer, answers the URL of a portal session for that customer and the configured return URL', async () => {
    const sub = await subscribe(app, 'mid_tier');
    const res = await request(app.t.app).post(`${BASE}/portal`).set(bearer(sub.user.accessToken));
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\/bps_/);
    expect(app.stripe.requestsTo('POST', '/v1/billing_portal/sessions').at(-1)?.form).toEqual({
      customer: sub.customerId,
      return_url: 'https://app.mingus.test/settings/billing',
    });
  });

  it('when retried with the same Idempotency-Key, opens a new portal session and never stores or replays the URL', async () => {
    const sub = await subscribe(app, 'mid_tier');
    const open = () =>
      request(app.t.app).post(`${BASE}/portal`).set(bearer(sub.user.accessToken)).set('Idempotency-Key', 'portal-1');
    const sessionsBefore = app.stripe.requestsTo('POST', '/v1/billing_portal/sessions').length;
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.url).not.toBe(first.body.url);
    expect(app.stripe.requestsTo('POST', '/v1/billing_portal/sessions')).toHaveLength(sessionsBefore + 2);
    expect(await app.t.db.prisma.idempotencyKey.count({ where: { userId: sub.user.id } })).toBe(0);
  });

  it('when the user never checked out, answers 409 no-billing-account', async () => {
    const user = await registerUser(app.t);
    const res = await request(app.t.app).post(`${BASE}/portal`).set(bearer(user.accessToken));
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://docs.mingus.app/problems/no-billing-account');
  });
});

describe('GET /api/v1/subscriptions/me', () => {
  it('when the user never subscribed, answers status none and no features', async () => {
    const user = await registerUser(app.t);
    const res = await request(app.t.app).get(`${BASE}/me`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      plan: null,
      status: 'none',
      currentPeriodEnd: null,
      cancelAtPeriodEnd: false,
      graceEndsAt: null,
      features: [],
    });
  });

  it("when another user asks, answers only the caller's own subscription", async () => {
    const sub = await subscribe(app, 'professional');
    const other = await registerUser(app.t);
    expect((await request(app.t.app).get(`${BASE}/me`).set(bearer(other.accessToken))).body.status).toBe('none');
    expect((await request(app.t.app).get(`${BASE}/me`).set(bearer(sub.user.accessToken))).body.plan).toBe(
      'professional',
    );
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(app.t.app).get(`${BASE}/me`)).status).toBe(401);
  });
});

describe('when billing is not configured', () => {
  let bare: TestApp;
  beforeAll(async () => {
    bare = await startTestApp();
  });
  afterAll(() => bare.close());

  it('when any billing route or the webhook is called, answers 503 billing-not-configured, and the rest of the API works', async () => {
    const user = await registerUser(bare);
    const auth = bearer(user.accessToken);
    const answers = [
      await request(bare.app).get(`${BASE}/plans`),
      await request(bare.app).get(`${BASE}/me`).set(auth),
      await request(bare.app).post(`${BASE}/checkout`).set(auth).send({ plan: 'budget' }),
      await request(bare.app).post(`${BASE}/portal`).set(auth),
      await deliver(bare, signedEvent('invoice.paid', { id: 'in_1', object: 'invoice' })),
    ];
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toBe('https://docs.mingus.app/problems/billing-not-configured');
    }
    expect(await bare.db.prisma.stripeEvent.count()).toBe(0);
    expect((await request(bare.app).get('/api/v1/users/me').set(auth)).status).toBe(200);
  });

  it('when a checkout body is invalid, answers 422 validation-failed rather than 503', async () => {
    const user = await registerUser(bare);
    const res = await request(bare.app)
      .post(`${BASE}/checkout`)
      .set(bearer(user.accessToken))
      .send({ plan: 'unknown' });
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('https://docs.mingus.app/problems/validation-failed');
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'body.plan' })]);
    expect(await bare.db.prisma.subscription.count({ where: { userId: user.id } })).toBe(0);
  });
});
