import type { RequestHandler } from 'express';
import { principalOf } from '../../http/authenticate.js';
import { withContract } from '../../http/contract.js';
import { ForbiddenError } from '../../http/errors.js';
import type { Db } from '../../platform/db-handle.js';
import { cheapestPlanWith, FEATURES, type Feature, type PlanId, planById, planHas } from './subscriptions.plans.js';
import { findAccessOfUser } from './subscriptions.repo.js';

const DAY_MS = 86_400_000;
/** Statuses in which Stripe is being paid (or a trial runs): the plan's features are on. */
const PAYING = new Set(['active', 'trialing']);

export interface AccessRow {
  plan: PlanId | null;
  status: string;
  pastDueSince: Date | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodEnd: Date | null;
}

/**
 * The plan whose features the user has now, or null. `past_due` keeps them for the grace period counted from when
 * the payment failure became known; `canceled`, `unpaid`, `incomplete`, `paused` and anything else lose them. A
 * cancellation scheduled for the period end takes effect at that instant even if Stripe's `deleted` event is late.
 */
export function planInEffect(row: AccessRow | null, graceDays: number, now: Date): PlanId | null {
  if (!row?.plan) return null;
  if (row.cancelAtPeriodEnd && row.currentPeriodEnd && row.currentPeriodEnd <= now) return null;
  if (PAYING.has(row.status)) return row.plan;
  if (
    row.status === 'past_due' &&
    row.pastDueSince &&
    now.getTime() < graceEndsAt(row.pastDueSince, graceDays).getTime()
  ) {
    return row.plan;
  }
  return null;
}

export function graceEndsAt(pastDueSince: Date, graceDays: number): Date {
  return new Date(pastDueSince.getTime() + graceDays * DAY_MS);
}

export type Entitlements = ReturnType<typeof createEntitlements>;

export function createEntitlements(deps: { db: Db; graceDays: number; now: () => Date }) {
  const { db, graceDays, now } = deps;

  async function planOf(userId: string): Promise<PlanId | null> {
    return planInEffect(await findAccessOfUser(db, userId), graceDays, now());
  }

  /** Resolves when the user's plan has `feature` now; 403 `plan-required` naming the cheapest plan with it if not. */
  async function assertFeature(userId: string, feature: Feature): Promise<void> {
    const plan = await planOf(userId);
    if (!planHas(plan, feature)) {
      const current = plan ? ` (your plan, ${planById(plan).name}, does not include it)` : '';
      throw new ForbiddenError(
        'plan-required',
        `${FEATURES[feature]} needs the ${cheapestPlanWith(feature).id} plan or a higher one${current}`,
      );
    }
  }

  return {
    planOf,
    assertFeature,

    /**
     * Gates a route on a plan feature (mount after requireAuth): 403 `plan-required` naming the cheapest plan that
     * has it. One lookup by the unique user_id index per request, so a plan change or a lapse applies at once.
     */
    requireEntitlement(feature: Feature): RequestHandler {
      const gate: RequestHandler = async (req, _res, next) => {
        await assertFeature(principalOf(req).userId, feature);
        next();
      };
      return withContract(gate, { problems: ['plan-required'] });
    },
  };
}
