import express, { type RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import { withContract } from '../../http/contract.js';
import type { Csrf } from '../../http/csrf.js';
import { HttpError } from '../../http/errors.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  CheckoutBody,
  MySubscription,
  PlanList,
  RedirectUrl,
  StripeEvent,
  WebhookAck,
} from './subscriptions.schemas.js';
import type { SubscriptionsService } from './subscriptions.service.js';
import type { StripeWebhooks } from './subscriptions.webhooks.js';

/** Stripe events are small, but an invoice with many lines is larger than the API's 100 kB JSON limit. */
export const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

const tag = 'Subscriptions';

const PLANS = operation({
  operationId: 'listPlans',
  tag,
  summary: 'The plans, their monthly price in cents and their features; public',
  replies: { 200: json('Every plan, cheapest first', PlanList) },
});
const ME = operation({
  operationId: 'getMySubscription',
  tag,
  summary: 'Your plan, its status, the end of the paid period and the features you have now',
  replies: { 200: json('Your subscription', MySubscription) },
});
const CHECKOUT = operation({
  operationId: 'createCheckoutSession',
  tag,
  summary: 'Start a Stripe Checkout for a plan; answers the URL of the payment page',
  description: 'The plan becomes active when Stripe confirms the payment (webhook).',
  replies: { 201: json('A Checkout Session was created', RedirectUrl) },
  problems: ['not-found', 'email-unverified', 'already-subscribed', 'billing-upstream-failed'],
});
const PORTAL = operation({
  operationId: 'createPortalSession',
  tag,
  summary: "Open Stripe's billing portal (change plan, payment method, cancel, invoices); answers its URL",
  description:
    'The URL is a bearer link to the billing account: each call opens a new session, and no `Idempotency-Key` is ' +
    'honoured, so the URL is never stored or answered twice. Repeating the call has no other effect.',
  replies: { 201: json('A billing portal session was created', RedirectUrl) },
  problems: ['no-billing-account', 'billing-upstream-failed'],
});
const WEBHOOK = operation({
  operationId: 'receiveStripeWebhook',
  tag: 'Webhooks',
  summary: 'Stripe webhook endpoint (called by Stripe, signed with STRIPE_WEBHOOK_SECRET)',
  description:
    'The raw body is verified against the `Stripe-Signature` header, whose timestamp must be within 300 s of the ' +
    "server's clock, before or after. Limited per IP (WEBHOOK_RATE_LIMIT_PER_MINUTE). Each event is applied once; " +
    'a repeated delivery answers 200 with outcome `duplicate`. Any failure answers 5xx so that Stripe retries.',
  replies: { 200: json('Applied, already applied, or of a type this service does not handle', WebhookAck) },
  problems: ['invalid-signature', 'malformed-json', 'billing-not-configured'],
  checks: { accepts: [{ name: 'stripeSignature' }], anonymous: false },
});

export function subscriptionsRoutes(
  svc: SubscriptionsService,
  deps: { csrf: Csrf; idempotent: RequestHandler },
): ApiRouter {
  const r = createApiRouter();
  // Without Stripe these routes are unavailable; a malformed body is still the client's 422 first.
  const billingConfigured = withContract<RequestHandler>(
    (_req, _res, next) => {
      svc.assertConfigured();
      next();
    },
    { problems: ['billing-not-configured'] },
  );

  // Public: a pricing page shows the plans before anyone signs up. Without Stripe there is nothing to buy.
  r.get('/plans', PLANS, billingConfigured, (_req, res) => {
    res.json(svc.plans());
  });

  r.get('/me', ME, requireAuth(), billingConfigured, async (req, res) => {
    res.json(await svc.me(principalOf(req).userId));
  });

  const checkout = validate({ body: CheckoutBody });
  r.post(
    '/checkout',
    CHECKOUT,
    requireAuth(),
    deps.csrf.protect,
    checkout,
    billingConfigured,
    deps.idempotent,
    async (req, res) => {
      res.status(201).json(await svc.checkout(principalOf(req).userId, checkout.input(req).body, requestContext(req)));
    },
  );

  // Not idempotent on purpose: a stored answer would be a copy of the portal URL, a bearer link to the customer's
  // billing, replayed to anyone holding the key for 24 h. Opening a session changes nothing, so a retry may run again.
  r.post('/portal', PORTAL, requireAuth(), deps.csrf.protect, billingConfigured, async (req, res) => {
    res.status(201).json(await svc.portal(principalOf(req).userId));
  });

  return r;
}

/**
 * Mounted before the JSON parser and outside the per-IP API limit: the signature covers the exact bytes Stripe
 * sent, and Stripe delivers in bursts from a few addresses. The body limit still applies.
 */
export function stripeWebhookRoutes(webhooks: StripeWebhooks): ApiRouter {
  const r = createApiRouter();
  const raw = express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES });
  const rawBody = withContract<RequestHandler>(
    (req, res, next) =>
      raw(req, res, (err?: unknown) => {
        if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
          return next(new HttpError(413, 'payload-too-large', 'The webhook body is larger than the limit of 512 kB'));
        }
        next(err);
      }),
    // The body is documented here, where it is read; the signature, not a schema, is what checks it.
    { request: { body: StripeEvent }, problems: ['payload-too-large', 'bad-request'] },
  );
  r.post('/', WEBHOOK, rawBody, async (req, res) => {
    const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.json({ received: true, outcome: await webhooks.receive(payload, req.get('stripe-signature')) });
  });
  return r;
}
