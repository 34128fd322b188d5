import { z } from 'zod';
import {
  CalendarDate,
  CurrencyCode,
  cents,
  INT32_MAX,
  Instant,
  JS_ARRAY_MAX_LENGTH,
} from '../../http/field-schemas.js';
import { FEATURES, type Feature, PLAN_IDS, type Plan as PlanDefinition } from './subscriptions.plans.js';

const PlanIdSchema = z.enum(PLAN_IDS).meta({ example: 'mid_tier' });
const FEATURE_IDS = Object.keys(FEATURES) as [Feature, ...Feature[]];
const FeatureSchema = z.enum(FEATURE_IDS).meta({ example: 'wellness-insights' });
const Features = z.array(FeatureSchema).max(FEATURE_IDS.length);

/**
 * Stripe's status verbatim, or `none`: a string rather than an enum so that a status Stripe adds later cannot fail a
 * webhook; `subscriptions.status` is varchar(32).
 */
const SubscriptionStatus = z.string().max(32);

/** The most Stripe charges in one payment: $999,999.99. */
const STRIPE_MAX_AMOUNT_CENTS = 99_999_999;

export const CheckoutBody = z.strictObject({ plan: PlanIdSchema }).meta({ id: 'CheckoutRequest' });
export type CheckoutBody = z.infer<typeof CheckoutBody>;

export const RedirectUrl = z
  .object({
    // Stripe's Checkout and portal URLs run to a few hundred characters; 2,048 is what every browser takes.
    url: z.url().max(2048).meta({
      description: 'Send the browser there; Stripe sends it back to the configured return URL',
      example: 'https://checkout.stripe.com/c/pay/cs_test_a1b2c3',
    }),
  })
  .meta({ id: 'StripeRedirect' });
export type RedirectUrl = z.infer<typeof RedirectUrl>;

export const Plan = z
  .object({
    id: PlanIdSchema,
    // Written in subscriptions.plans.ts; test/modules/subscriptions holds every plan to this schema.
    name: z.string().max(50).meta({ example: 'Mid-tier' }),
    priceCents: cents(0, STRIPE_MAX_AMOUNT_CENTS).meta({ example: 2000 }),
    currency: z.literal('usd'),
    interval: z.literal('month'),
    features: Features.meta({ example: ['budget-tracking', 'wellness-insights'] }),
  })
  .meta({ id: 'Plan' });
export type Plan = z.infer<typeof Plan>;

export const PlanList = z
  .object({
    data: z.array(Plan).max(PLAN_IDS.length),
    nextCursor: z.null().meta({ description: 'Always null: every plan is on the one page' }),
  })
  .meta({ id: 'PlanList' });
export type PlanList = z.infer<typeof PlanList>;

export const MySubscription = z
  .object({
    plan: PlanIdSchema.nullable().meta({ description: 'The plan subscribed to; null with no subscription' }),
    status: SubscriptionStatus.meta({
      description:
        "Stripe's status (active, trialing, past_due, canceled, unpaid, incomplete, incomplete_expired, paused), or none",
      example: 'active',
    }),
    currentPeriodEnd: Instant.nullable(),
    cancelAtPeriodEnd: z.boolean().meta({ example: false }),
    graceEndsAt: Instant.nullable().meta({
      description: 'past_due only: when the features stop unless the payment succeeds',
    }),
    features: Features.meta({ description: 'The features available right now' }),
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

/** What Stripe sends, for the document only: the webhook verifies the raw bytes, and the SDK parses them. */
export const StripeEvent = z
  .object({
    // `stripe_events` keeps both as varchar(255).
    id: z.string().max(255),
    type: z.string().max(255),
    data: z.object({ object: z.record(z.string(), z.unknown()) }),
  })
  .meta({
    id: 'StripeEvent',
    example: { id: 'evt_1Q2w3E', type: 'invoice.paid', data: { object: { id: 'in_1Q2w3E' } } },
  });

/** `billing_invoices` cents are `integer`, never negative (CHECK constraints). */
const InvoiceCents = cents(0, INT32_MAX);

/**
 * The `billing` section of the GDPR export: the plan, its status and each invoice's dates and amounts; Stripe's ids
 * are ours, not the user's data.
 */
export const BillingExport = z.object({
  subscription: z
    .object({
      plan: PlanIdSchema.nullable(),
      status: SubscriptionStatus,
      currentPeriodEnd: Instant.nullable(),
      cancelAtPeriodEnd: z.boolean(),
    })
    .nullable(),
  invoices: z
    .array(
      z.object({
        recordedOn: CalendarDate,
        periodStart: CalendarDate.nullable(),
        periodEnd: CalendarDate.nullable(),
        amountDueCents: InvoiceCents,
        amountPaidCents: InvoiceCents,
        currency: CurrencyCode,
        status: z.string().max(32),
      }),
    )
    .max(JS_ARRAY_MAX_LENGTH),
});

export function toPlan(plan: PlanDefinition): Plan {
  return { ...plan, features: [...plan.features] };
}
