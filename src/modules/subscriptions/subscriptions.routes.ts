import express, { type RequestHandler, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { HttpError } from '../../http/errors.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { CheckoutBody } from './subscriptions.schemas.js';
import type { SubscriptionsService } from './subscriptions.service.js';
import type { StripeWebhooks } from './subscriptions.webhooks.js';

/** Stripe events are small, but an invoice with many lines is larger than the API's 100 kB JSON limit. */
export const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

export function subscriptionsRoutes(
  svc: SubscriptionsService,
  deps: { csrf: Csrf; idempotent: RequestHandler },
): Router {
  const r = Router();
  // Checked before the body: without Stripe, these routes are unavailable whatever is sent.
  const billingConfigured: RequestHandler = (_req, _res, next) => {
    svc.assertConfigured();
    next();
  };

  // Public: a pricing page shows the plans before anyone signs up. Without Stripe there is nothing to buy.
  r.get('/plans', billingConfigured, (_req, res) => {
    res.json(svc.plans());
  });

  r.get('/me', requireAuth(), billingConfigured, async (req, res) => {
    res.json(await svc.me(principalOf(req).userId));
  });

  const checkout = validate({ body: CheckoutBody });
  r.post(
    '/checkout',
    requireAuth(),
    deps.csrf.protect,
    billingConfigured,
    checkout,
    deps.idempotent,
    async (req, res) => {
      res.status(201).json(await svc.checkout(principalOf(req).userId, checkout.input(req).body, requestContext(req)));
    },
  );

  r.post('/portal', requireAuth(), deps.csrf.protect, billingConfigured, deps.idempotent, async (req, res) => {
    res.status(201).json(await svc.portal(principalOf(req).userId));
  });

  return r;
}

/**
 * Mounted before the JSON parser and outside the per-IP API limit: the signature covers the exact bytes Stripe
 * sent, and Stripe delivers in bursts from a few addresses. The body limit still applies.
 */
export function stripeWebhookRoutes(webhooks: StripeWebhooks): Router {
  const r = Router();
  const raw = express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES });
  r.post(
    '/',
    (req, res, next) =>
      raw(req, res, (err?: unknown) => {
        if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
          return next(new HttpError(413, 'payload-too-large', 'The webhook body is larger than the limit of 512 kB'));
        }
        next(err);
      }),
    async (req, res) => {
      const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json({ received: true, outcome: await webhooks.receive(payload, req.get('stripe-signature')) });
    },
  );
  return r;
}
