/**
 * The plans and what each one unlocks. Prices live here (what the API shows) and in Stripe (what is charged): the
 * Stripe price ids come from configuration, and docs/billing.md says how to create prices that match these amounts.
 */
export const PLAN_IDS = ['budget', 'mid_tier', 'professional'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

/**
 * What plans sell: each one enforced by the API (a route gated with `requireEntitlement`, or a rule such as the
 * reminder cap). The data export is everyone's right (GDPR), not a paid feature, and nothing the API cannot enforce
 * (support levels) is listed. docs/billing.md's table is checked against this list and PLANS.
 */
export const FEATURES = {
  'budget-tracking': 'Income, savings and debt profile with monthly budget tracking',
  'financial-questionnaires': 'Financial wellness questionnaires with a score and recommendations',
  reminders: 'Bill and savings reminders (up to 10 active)',
  'unlimited-reminders': 'Unlimited active reminders',
  'wellness-insights': 'Wellness insights: check-in summaries and trends',
  'bank-links': 'Linked bank accounts with transaction sync',
} as const;
export type Feature = keyof typeof FEATURES;

export interface Plan {
  id: PlanId;
  name: string;
  priceCents: number;
  currency: 'usd';
  interval: 'month';
  features: readonly Feature[];
}

/** Cheapest first: `cheapestPlanWith` relies on this order. Each plan includes everything of the one before. */
export const PLANS: readonly Plan[] = [
  {
    id: 'budget',
    name: 'Budget',
    priceCents: 1000,
    currency: 'usd',
    interval: 'month',
    features: ['budget-tracking', 'financial-questionnaires', 'reminders'],
  },
  {
    id: 'mid_tier',
    name: 'Mid-tier',
    priceCents: 2000,
    currency: 'usd',
    interval: 'month',
    features: ['budget-tracking', 'financial-questionnaires', 'reminders', 'unlimited-reminders', 'wellness-insights'],
  },
  {
    id: 'professional',
    name: 'Professional',
    priceCents: 5000,
    currency: 'usd',
    interval: 'month',
    features: [
      'budget-tracking',
      'financial-questionnaires',
      'reminders',
      'unlimited-reminders',
      'wellness-insights',
      'bank-links',
    ],
  },
];

const BY_ID = new Map(PLANS.map((plan) => [plan.id, plan]));

export function planById(id: PlanId): Plan {
  const plan = BY_ID.get(id);
  if (!plan) throw new Error(`unknown plan ${id}`);
  return plan;
}

export function planHas(plan: PlanId | null, feature: Feature): boolean {
  return plan !== null && planById(plan).features.includes(feature);
}

export function cheapestPlanWith(feature: Feature): Plan {
  const plan = PLANS.find((p) => p.features.includes(feature));
  // Unreachable for a Feature: the test of the plan table proves every feature is in some plan.
  if (!plan) throw new Error(`no plan includes ${feature}`);
  return plan;
}

/** Stripe price id per plan, from configuration (STRIPE_PRICE_*). */
export type PlanPrices = Record<PlanId, string>;

/** The plan a Stripe price id stands for; undefined for a price this service does not sell. */
export function planOfPrice(prices: PlanPrices, priceId: string | undefined): PlanId | undefined {
  return PLAN_IDS.find((id) => prices[id] === priceId);
}
