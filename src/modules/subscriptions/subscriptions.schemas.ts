import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';
import { FEATURES, type Feature, PLAN_IDS, type Plan as PlanDefinition } from './subscriptions.plans.js';

const PlanIdSchema = z.enum(PLAN_IDS).meta({ example: 'mid_tier' });
const FeatureSchema = z.enum(Object.keys(FEATURES) as [Feature, ...Feature[]]).meta({ example: 'wellness-insights' });
const Instant = z.iso.datetime().meta({ example: '2026-12-25T09:30:00.000Z' });

export const CheckoutBody = z.strictObject({ plan: PlanIdSchema }).meta({ id: 'CheckoutRequest' });
export type CheckoutBody = z.infer<typeof CheckoutBody>;

export const RedirectUrl = z
  .object({
    url: z.url().meta({
      description: 'Send the browser there; Stripe sends it back to the configured return URL',
      example: 'https://checkout.stripe.com/c/pay/cs_test_a1b2c3',
    }),
  })
  .meta({ id: 'StripeRedirect' });
export type RedirectUrl = z.infer<typeof RedirectUrl>;

export const Plan = z
  .object({
    id: PlanIdSchema,
    name: z.string().meta({ example: 'Mid-tier' }),
    priceCents: z.number().int().meta({ example: 2000 }),
    currency: z.literal('usd'),
    interval: z.literal('month'),
    features: z.array(FeatureSchema).meta({ example: ['budget-tracking', 'wellness-insights'] }),
  })
  .meta({ id: 'Plan' });
export type Plan = z.infer<typeof Plan>;

export const PlanList = z
  .object({
    data: z.array(Plan),
    nextCursor: z.null().meta({ description: 'Always null: every plan is on the one page' }),
  })
  .meta({ id: 'PlanList' });
export type PlanList = z.infer<typeof PlanList>;

export const MySubscription = z
  .object({
    plan: PlanIdSchema.nullable().meta({ description: 'The plan subscribed to; null with no subscription' }),
    status: z.string().meta({
      description:
        "Stripe's status (active, trialing, past_due, canceled, unpaid, incomplete, incomplete_expired, paused), or none",
      example: 'active',
    }),
    currentPeriodEnd: Instant.nullable(),
    cancelAtPeriodEnd: z.boolean().meta({ example: false }),
    graceEndsAt: Instant.nullable().meta({
      description: 'past_due only: when the features stop unless the payment succeeds',
    }),
    features: z.array(FeatureSchema).meta({ description: 'The features available right now' }),
  })
  .meta({ id: 'MySubscription' });
export type MySubscription = z.infer<typeof MySubscription>;

export const WebhookAck = z
  .object({
    received: z.literal(true),
    outcome: z.enum(['applied', 'duplicate', 'ignored']).meta({ example: 'applied' }),
  })
  .meta({ id: 'StripeWebhookAck' });
export type WebhookAck = z.infer<typeof WebhookAck>;

export function toPlan(plan: PlanDefinition): Plan {
  return { ...plan, features: [...plan.features] };
}

export function describeSubscriptionsApi(registry: OpenAPIRegistry) {
  const tags = ['Subscriptions'];
  const security = [{ [SECURITY.bearer]: [] }];
  const base = '/api/v1/subscriptions';
  const notSignedIn = problem('Not signed in');
  const unconfigured = problem('Billing is not configured on this server (`billing-not-configured`)');
  const forbidden = problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token');

  registry.registerPath({
    method: 'get',
    path: `${base}/plans`,
    tags,
    summary: 'The plans, their monthly price in cents and their features; public',
    responses: { 200: json('Every plan, cheapest first', PlanList), 503: unconfigured },
  });
  registry.registerPath({
    method: 'get',
    path: `${base}/me`,
    tags,
    summary: 'Your plan, its status, the end of the paid period and the features you have now',
    security,
    responses: { 200: json('Your subscription', MySubscription), 401: notSignedIn, 503: unconfigured },
  });
  registry.registerPath({
    method: 'post',
    path: `${base}/checkout`,
    tags,
    summary: 'Start a Stripe Checkout for a plan; answers the URL of the payment page',
    description: 'Accepts `Idempotency-Key`. The plan becomes active when Stripe confirms the payment (webhook).',
    security,
    request: { body: { content: { 'application/json': { schema: CheckoutBody } } } },
    responses: {
      201: json('A Checkout Session was created', RedirectUrl),
      401: notSignedIn,
      403: forbidden,
      409: problem('Already subscribed (`already-subscribed`): change plans in the billing portal'),
      422: problem('Unknown plan or invalid fields'),
      502: problem('Stripe refused or failed the request (`billing-upstream-failed`)'),
      503: unconfigured,
    },
  });
  registry.registerPath({
    method: 'post',
    path: `${base}/portal`,
    tags,
    summary: "Open Stripe's billing portal (change plan, payment method, cancel, invoices); answers its URL",
    security,
    responses: {
      201: json('A billing portal session was created', RedirectUrl),
      401: notSignedIn,
      403: forbidden,
      409: problem('No billing account yet (`no-billing-account`): subscribe through checkout first'),
      502: problem('Stripe refused or failed the request (`billing-upstream-failed`)'),
      503: unconfigured,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/webhooks/stripe',
    tags,
    summary: 'Stripe webhook endpoint (called by Stripe, signed with STRIPE_WEBHOOK_SECRET)',
    description:
      'The raw body is verified against the `Stripe-Signature` header (300 s tolerance). Each event is applied once; ' +
      'a repeated delivery answers 200 with outcome `duplicate`. Any failure answers 5xx so that Stripe retries.',
    request: {
      headers: z.object({ 'stripe-signature': z.string().meta({ example: 't=1767225600,v1=5257a869e7…' }) }),
      body: {
        content: {
          'application/json': {
            schema: z
              .object({
                id: z.string(),
                type: z.string(),
                data: z.object({ object: z.record(z.string(), z.unknown()) }),
              })
              .meta({ example: { id: 'evt_1Q2w3E', type: 'invoice.paid', data: { object: { id: 'in_1Q2w3E' } } } }),
          },
        },
      },
    },
    responses: {
      200: json('Applied, already applied, or of a type this service does not handle', WebhookAck),
      400: problem('Missing, invalid or stale signature (`invalid-signature`); nothing was applied'),
      413: problem('The body is over 512 kB'),
      503: unconfigured,
    },
  });
}
