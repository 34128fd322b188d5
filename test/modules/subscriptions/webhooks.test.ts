import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../../support/auth.js';
import { parseSamples, samplesOf } from '../../support/prometheus.js';
import { invoiceObject, signedEvent, subscriptionObject, TEST_PRICES } from '../../support/stripe-server.js';
import {
  type BillingTestApp,
  changeAudits,
  deliver,
  rowOf,
  startBillingApp,
  subscribe,
  testClock,
  WEBHOOK,
} from './billing.helpers.js';

const DAY_MS = 86_400_000;
const clock = testClock(new Date());
let app: BillingTestApp;
beforeAll(async () => {
  app = await startBillingApp({ now: clock.now });
});
afterAll(() => app.close());

const eventCount = () => app.t.db.prisma.stripeEvent.count();
const me = (token: string) => request(app.t.app).get('/api/v1/subscriptions/me').set(bearer(token));
const summary = (token: string) => request(app.t.app).get('/api/v1/checkins/summary').set(bearer(token));

describe('POST /api/v1/webhooks/stripe: signatures', () => {
  async function pastDueUpdate() {
    const sub = await subscribe(app, 'mid_tier', 'active', clock.now());
    const pastDue = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'past_due',
      price: TEST_PRICES.mid_tier,
    });
    app.stripe.setSubscription(pastDue);
    return { sub, event: signedEvent('customer.subscription.updated', pastDue, { at: clock.now() }) };
  }

  async function expectRefusedAndNothingWritten(res: request.Response, userId: string, eventsBefore: number) {
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('https://docs.mingus.app/problems/invalid-signature');
    expect(await eventCount()).toBe(eventsBefore);
    expect((await rowOf(app.t, userId))?.status).toBe('active');
  }

  it('when the Stripe-Signature header is missing, answers 400 and applies nothing', async () => {
    const { sub, event } = await pastDueUpdate();
    const before = await eventCount();
    const res = await request(app.t.app).post(WEBHOOK).set('Content-Type', 'application/json').send(event.payload);
    await expectRefusedAndNothingWritten(res, sub.user.id, before);
  });

  it('when the signature is made with another secret, answers 400 and applies nothing', async () => {
    const { sub, event } = await pastDueUpdate();
    const forged = signedEvent('customer.subscription.updated', JSON.parse(event.payload).data.object, {
      at: clock.now(),
      secret: 'whsec_notthesecretofthisendpoint',
    });
    const before = await eventCount();
    await expectRefusedAndNothingWritten(await deliver(app.t, forged), sub.user.id, before);
  });

  it('when the payload was altered after signing, answers 400 and applies nothing', async () => {
    const { sub, event } = await pastDueUpdate();
    const before = await eventCount();
    const altered = { ...event, payload: event.payload.replace('"livemode":false', '"livemode":true') };
    await expectRefusedAndNothingWritten(await deliver(app.t, altered), sub.user.id, before);
  });

  it('when the signature is older than 300 s, answers 400 and applies nothing; at 300 s it is accepted', async () => {
    const { sub } = await pastDueUpdate();
    const object = app.stripe.subscription(sub.subscription.id);
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    const stale = signedEvent('customer.subscription.updated', object, {
      at: clock.now(),
      timestamp: nowSeconds - 301,
    });
    const before = await eventCount();
    await expectRefusedAndNothingWritten(await deliver(app.t, stale), sub.user.id, before);

    const edge = signedEvent('customer.subscription.updated', object, { at: clock.now(), timestamp: nowSeconds - 300 });
    expect((await deliver(app.t, edge)).status).toBe(200);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('past_due');
  });

  it('when the signature is dated more than 300 s ahead, answers 400 and applies nothing; at 300 s ahead it is accepted', async () => {
    const { sub } = await pastDueUpdate();
    const object = app.stripe.subscription(sub.subscription.id);
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    const ahead = signedEvent('customer.subscription.updated', object, {
      at: clock.now(),
      timestamp: nowSeconds + 301,
    });
    const before = await eventCount();
    await expectRefusedAndNothingWritten(await deliver(app.t, ahead), sub.user.id, before);

    const edge = signedEvent('customer.subscription.updated', object, { at: clock.now(), timestamp: nowSeconds + 300 });
    expect((await deliver(app.t, edge)).status).toBe(200);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('past_due');
  });
});

describe('POST /api/v1/webhooks/stripe: forged calls', () => {
  const failures = async (a: BillingTestApp) => {
    const res = await request(a.t.app).get('/metrics').set(bearer(a.t.metricsToken));
    return Object.fromEntries(
      samplesOf(parseSamples(res.text), 'mingus_webhook_failures_total', { provider: 'stripe' }).map((s) => [
        s.labels.reason,
        s.value,
      ]),
    );
  };
  const refusalLines = (a: BillingTestApp) => a.t.logs().filter((l) => l.msg === 'Stripe webhook refused');
  const forged = (at: Date) =>
    signedEvent('customer.created', { id: 'cus_forged', object: 'customer' }, { at, secret: 'whsec_guessed000000001' });

  it('when forged calls keep coming, counts each by reason and logs one short warning a minute per reason, with how many it left out', async () => {
    const own = testClock();
    const a = await startBillingApp({ now: own.now });
    try {
      for (let i = 0; i < 5; i += 1) expect((await deliver(a.t, forged(own.now()))).status).toBe(400);
      const unsigned = await request(a.t.app).post(WEBHOOK).set('Content-Type', 'application/json').send('{}');
      expect(unsigned.status).toBe(400);
      expect(await failures(a)).toEqual({ bad_signature: 5, missing_signature: 1 });
      expect(refusalLines(a).map((l) => [l.reason, l.suppressed])).toEqual([
        ['bad_signature', 0],
        ['missing_signature', 0],
      ]);

      own.advance(60_000);
      expect((await deliver(a.t, forged(own.now()))).status).toBe(400);
      expect(refusalLines(a).map((l) => [l.reason, l.suppressed])).toEqual([
        ['bad_signature', 0],
        ['missing_signature', 0],
        ['bad_signature', 4],
      ]);
      expect(JSON.stringify(refusalLines(a))).not.toMatch(/docs\.stripe\.com|expected signature/);
      expect(await a.t.db.prisma.stripeEvent.count()).toBe(0);
    } finally {
      await a.close();
    }
  });

  it('when one address calls more than WEBHOOK_RATE_LIMIT_PER_MINUTE times a minute, answers 429 and applies nothing', async () => {
    const a = await startBillingApp({ env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      for (let i = 0; i < 3; i += 1) expect((await deliver(a.t, forged(new Date()))).status).toBe(400);
      const genuine = signedEvent('customer.created', { id: 'cus_after', object: 'customer' });
      const limited = await deliver(a.t, genuine);
      expect(limited.status).toBe(429);
      expect(limited.body.type).toBe('https://docs.mingus.app/problems/rate-limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(await a.t.db.prisma.stripeEvent.count()).toBe(0);
      expect(await failures(a)).toEqual({ bad_signature: 3 });
    } finally {
      await a.close();
    }
  });
});

describe('POST /api/v1/webhooks/stripe: applying events', () => {
  it('when checkout completes, stores plan, status and period end from the subscription, and audits the change', async () => {
    const sub = await subscribe(app, 'budget', 'active', clock.now());
    const row = await rowOf(app.t, sub.user.id);
    expect(row).toMatchObject({
      stripeSubscriptionId: sub.subscription.id,
      plan: 'budget',
      status: 'active',
      cancelAtPeriodEnd: false,
      pastDueSince: null,
    });
    const periodEnd = sub.subscription.items.data[0]?.current_period_end as number;
    expect(row?.currentPeriodEnd?.getTime()).toBe(periodEnd * 1000);
    const audits = await changeAudits(app.t, sub.user.id);
    expect(audits).toEqual([
      {
        targetType: 'stripe_event',
        targetId: expect.stringMatching(/^evt_/),
        fields: ['status:incomplete→active', 'plan:none→budget'],
      },
    ]);
    const res = await me(sub.user.accessToken);
    expect(res.body).toEqual({
      plan: 'budget',
      status: 'active',
      currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
      cancelAtPeriodEnd: false,
      graceEndsAt: null,
      features: ['budget-tracking', 'financial-questionnaires', 'reminders'],
    });
  });

  it('when the same event is delivered again, answers 200 "duplicate" and changes nothing', async () => {
    const sub = await subscribe(app, 'budget', 'active', clock.now());
    const updated = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'active',
      price: TEST_PRICES.professional,
    });
    app.stripe.setSubscription(updated);
    const event = signedEvent('customer.subscription.updated', updated, { at: clock.now() });
    expect((await deliver(app.t, event)).body).toEqual({ received: true, outcome: 'applied' });
    // Stripe changes again, but a redelivery of the old event must not apply anything.
    app.stripe.setSubscription({ ...updated, status: 'past_due' });
    const again = await deliver(app.t, event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, outcome: 'duplicate' });
    expect(await rowOf(app.t, sub.user.id)).toMatchObject({ plan: 'professional', status: 'active' });
    expect(await changeAudits(app.t, sub.user.id)).toHaveLength(2);
  });

  it('when one event is delivered 50 times at once, applies it once and answers 200 to every delivery', async () => {
    const sub = await subscribe(app, 'mid_tier', 'active', clock.now());
    const pastDue = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'past_due',
      price: TEST_PRICES.mid_tier,
    });
    app.stripe.setSubscription(pastDue);
    const event = signedEvent('customer.subscription.updated', pastDue, { at: clock.now() });

    const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(app.t, event)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    const outcomes = answers.map((a) => a.body.outcome as string);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(49);
    expect(await app.t.db.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(1);
    const audits = (await changeAudits(app.t, sub.user.id)).filter((a) => a.targetId === event.id);
    expect(audits).toEqual([{ targetType: 'stripe_event', targetId: event.id, fields: ['status:active→past_due'] }]);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('past_due');
  });

  it('when "deleted" arrives before an older "updated", the subscription ends canceled', async () => {
    const sub = await subscribe(app, 'professional', 'active', clock.now());
    const earlier = clock.now();
    const scheduled = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'active',
      price: TEST_PRICES.professional,
      cancelAtPeriodEnd: true,
    });
    const canceled = { ...scheduled, status: 'canceled' as const };
    app.stripe.setSubscription(canceled);
    const updated = signedEvent('customer.subscription.updated', scheduled, { at: earlier });
    const deleted = signedEvent('customer.subscription.deleted', canceled, { at: clock.now() });

    expect((await deliver(app.t, deleted)).status).toBe(200);
    expect((await deliver(app.t, updated)).status).toBe(200);

    expect(await rowOf(app.t, sub.user.id)).toMatchObject({ status: 'canceled', plan: 'professional' });
    expect((await me(sub.user.accessToken)).body).toMatchObject({ status: 'canceled', features: [] });
    const fields = (await changeAudits(app.t, sub.user.id)).map((a) => a.fields);
    expect(fields).toEqual([
      ['status:incomplete→active', 'plan:none→professional'],
      ['status:active→canceled', 'cancel_at_period_end:false→true'],
    ]);
  });

  it('when a stale "updated" comes after "deleted" and Stripe itself still answered the old state, canceled is kept', async () => {
    const sub = await subscribe(app, 'budget', 'active', clock.now());
    const active = app.stripe.subscription(sub.subscription.id);
    const canceled = { ...active, status: 'canceled' } as typeof active;
    expect(
      (await deliver(app.t, signedEvent('customer.subscription.deleted', canceled, { at: clock.now() }))).status,
    ).toBe(200);
    // A canceled subscription never becomes active again: whatever arrives later cannot revive it.
    const stale = signedEvent('customer.subscription.updated', active, { at: clock.now() });
    expect((await deliver(app.t, stale)).status).toBe(200);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('canceled');
  });

  it('when a payment fails, the plan stays past_due with access for the grace period, then access is lost', async () => {
    const sub = await subscribe(app, 'mid_tier', 'active', clock.now());
    expect((await summary(sub.user.accessToken)).status).toBe(200);
    const failedAt = clock.now();
    app.stripe.setSubscription({ ...app.stripe.subscription(sub.subscription.id), status: 'past_due' } as never);
    const invoice = invoiceObject({
      customer: sub.customerId,
      subscription: sub.subscription.id,
      status: 'open',
      amountDueCents: 2000,
      amountPaidCents: 0,
      periodStart: Math.floor(failedAt.getTime() / 1000),
      periodEnd: Math.floor(failedAt.getTime() / 1000) + 30 * 86_400,
    });
    expect((await deliver(app.t, signedEvent('invoice.payment_failed', invoice, { at: failedAt }))).status).toBe(200);

    expect(await rowOf(app.t, sub.user.id)).toMatchObject({ status: 'past_due', pastDueSince: failedAt });
    expect(await app.t.db.prisma.billingInvoice.findUnique({ where: { stripeInvoiceId: invoice.id } })).toMatchObject({
      userId: sub.user.id,
      status: 'open',
      amountDueCents: 2000,
      amountPaidCents: 0,
      currency: 'usd',
    });
    const graceEnd = new Date(failedAt.getTime() + 3 * DAY_MS).toISOString();
    expect((await me(sub.user.accessToken)).body).toMatchObject({ status: 'past_due', graceEndsAt: graceEnd });
    expect((await summary(sub.user.accessToken)).status).toBe(200);

    clock.advance(3 * DAY_MS - 60_000);
    expect((await summary(sub.user.accessToken)).status).toBe(200);
    clock.advance(60_000);
    const lost = await summary(sub.user.accessToken);
    expect(lost.status).toBe(403);
    expect(lost.body.type).toBe('https://docs.mingus.app/problems/plan-required');
    expect((await me(sub.user.accessToken)).body.features).toEqual([]);

    // The retry succeeds: Stripe marks the invoice paid and the subscription active again.
    app.stripe.setSubscription({ ...app.stripe.subscription(sub.subscription.id), status: 'active' } as never);
    const paid = { ...invoice, status: 'paid', amount_paid: 2000 };
    expect((await deliver(app.t, signedEvent('invoice.paid', paid, { at: clock.now() }))).status).toBe(200);
    expect(await rowOf(app.t, sub.user.id)).toMatchObject({ status: 'active', pastDueSince: null });
    expect((await summary(sub.user.accessToken)).status).toBe(200);
    expect((await app.t.db.prisma.billingInvoice.findUnique({ where: { stripeInvoiceId: invoice.id } }))?.status).toBe(
      'paid',
    );

    // A late redelivery of the failure (another event id) does not undo the payment of the invoice.
    expect((await deliver(app.t, signedEvent('invoice.payment_failed', invoice, { at: clock.now() }))).status).toBe(
      200,
    );
    expect(await app.t.db.prisma.billingInvoice.findUnique({ where: { stripeInvoiceId: invoice.id } })).toMatchObject({
      status: 'paid',
      amountPaidCents: 2000,
    });
  });

  it('when the database fails mid-event, answers 5xx with nothing written, and the retry then applies it', async () => {
    const sub = await subscribe(app, 'budget', 'active', clock.now());
    const pastDue = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'past_due',
      price: TEST_PRICES.budget,
    });
    app.stripe.setSubscription(pastDue);
    const event = signedEvent('customer.subscription.updated', pastDue, { at: clock.now() });
    const auditsBefore = await changeAudits(app.t, sub.user.id);

    // The audit insert comes after the event claim and the subscription update in the same transaction.
    await app.t.db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await app.t.db.prisma.$executeRawUnsafe(
      'CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()',
    );
    let failed: request.Response;
    try {
      failed = await deliver(app.t, event);
    } finally {
      await app.t.db.prisma.$executeRawUnsafe('DROP TRIGGER test_refuse_audit ON audit_log');
      await app.t.db.prisma.$executeRawUnsafe('DROP FUNCTION test_refuse_audit()');
    }
    expect(failed.status).toBe(500);
    expect(failed.type).toBe('application/problem+json');
    expect(await app.t.db.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(0);
    expect(await rowOf(app.t, sub.user.id)).toMatchObject({ status: 'active', pastDueSince: null });
    expect(await changeAudits(app.t, sub.user.id)).toEqual(auditsBefore);

    const retried = await deliver(app.t, event);
    expect(retried.status).toBe(200);
    expect(retried.body.outcome).toBe('applied');
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('past_due');
    expect(await app.t.db.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(1);
  });

  it('when Stripe fails while the subscription is read, answers 5xx without recording the event, so the retry applies it', async () => {
    const sub = await subscribe(app, 'budget', 'active', clock.now());
    const pastDue = subscriptionObject({
      id: sub.subscription.id,
      customer: sub.customerId,
      status: 'past_due',
      price: TEST_PRICES.budget,
    });
    app.stripe.setSubscription(pastDue);
    const event = signedEvent('customer.subscription.updated', pastDue, { at: clock.now() });
    app.stripe.failures.set(`GET /v1/subscriptions/${sub.subscription.id}`, 500);
    let failed: request.Response;
    try {
      failed = await deliver(app.t, event);
    } finally {
      app.stripe.failures.clear();
    }
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await app.t.db.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(0);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('active');

    expect((await deliver(app.t, event)).status).toBe(200);
    expect((await rowOf(app.t, sub.user.id))?.status).toBe('past_due');
  });

  it('when the event type is not handled, answers 200 "ignored", logs it and records nothing', async () => {
    const before = await eventCount();
    const event = signedEvent('customer.created', { id: 'cus_other', object: 'customer' }, { at: clock.now() });
    const res = await deliver(app.t, event);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: 'ignored' });
    expect(await eventCount()).toBe(before);
    expect(app.t.logs().some((l) => l.stripeEventId === event.id && l.stripeEventType === 'customer.created')).toBe(
      true,
    );
  });

  it('when the subscription belongs to a customer this service does not know, acknowledges it and changes nothing', async () => {
    const stranger = subscriptionObject({ customer: 'cus_unknown0001', status: 'active', price: TEST_PRICES.budget });
    app.stripe.setSubscription(stranger);
    const before = await app.t.db.prisma.subscription.count();
    const res = await deliver(app.t, signedEvent('customer.subscription.created', stranger, { at: clock.now() }));
    expect(res.status).toBe(200);
    expect(await app.t.db.prisma.subscription.count()).toBe(before);
  });

  it('when the body is over 512 kB, answers 413 without reading it as an event', async () => {
    const big = signedEvent(
      'customer.created',
      { id: 'cus_big', padding: 'x'.repeat(600 * 1024) },
      { at: clock.now() },
    );
    const res = await deliver(app.t, big);
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('https://docs.mingus.app/problems/payload-too-large');
  });

  it('when Stripe delivers a burst beyond the per-IP API rate limit, answers 200 to every delivery', async () => {
    const limited = await startBillingApp({ env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const event = signedEvent('customer.created', { id: 'cus_burst', object: 'customer' });
      const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(limited.t, event)));
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    } finally {
      await limited.close();
    }
  });
});
