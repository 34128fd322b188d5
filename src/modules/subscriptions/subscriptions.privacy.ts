import { ConflictError } from '../../http/errors.js';
import type { Queryable } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import { isStripeMissing, type StripeClient } from '../../platform/stripe.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { deleteBillingOfUser, findSubscriptionOfUser, listInvoicesOfUser } from './subscriptions.repo.js';
import { billingNotConfigured, stripeFailed } from './subscriptions.service.js';
import { isFinalStatus } from './subscriptions.sync.js';

/**
 * Billing's part of the GDPR export and erasure. Exported: the plan, its status and the invoices' dates and
 * amounts (Stripe ids are ours, not the user's data). Erasure first ends everything at Stripe, so that an erased
 * account can never be charged again, then deletes the local rows.
 */
export function subscriptionsPrivacySection(deps: {
  /** Absent when billing is not configured. */
  stripe: StripeClient | undefined;
  logger: Logger;
}): PersonalDataSection {
  const { logger } = deps;
  /**
   * The Stripe customer each pending erasure ended (null: none), by user: `erase` checks, under the account lock,
   * that no checkout slipped a new customer in between. Entries live from `beforeErase` to `erase` of one erasure.
   */
  const ended = new Map<string, string | null>();

  /** Already gone at Stripe is what we want: a retried erasure must get past what the first attempt did. */
  async function unlessMissing(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (!isStripeMissing(err)) throw stripeFailed(logger, 'clean-up for an account erasure', err);
    }
  }

  return {
    name: 'billing',

    async export(db: Queryable, userId: string) {
      const row = await findSubscriptionOfUser(db, userId);
      const invoices = await listInvoicesOfUser(db, userId);
      return {
        subscription: row
          ? {
              plan: row.plan,
              status: row.stripeSubscriptionId ? row.status : 'none',
              currentPeriodEnd: row.currentPeriodEnd?.toISOString() ?? null,
              cancelAtPeriodEnd: row.cancelAtPeriodEnd,
            }
          : null,
        invoices: invoices.map((invoice) => ({
          recordedOn: invoice.createdAt.toISOString().slice(0, 10),
          periodStart: invoice.periodStart?.toISOString().slice(0, 10) ?? null,
          periodEnd: invoice.periodEnd?.toISOString().slice(0, 10) ?? null,
          amountDueCents: invoice.amountDueCents,
          amountPaidCents: invoice.amountPaidCents,
          currency: invoice.currency,
          status: invoice.status,
        })),
      };
    },

    async beforeErase(db: Queryable, userId: string) {
      const row = await findSubscriptionOfUser(db, userId);
      ended.set(userId, row?.stripeCustomerId ?? null);
      if (!row) return;
      // A customer exists at Stripe and nothing here can remove it: refuse rather than erase and keep billing.
      if (!deps.stripe) throw billingNotConfigured();
      const stripe = deps.stripe;
      if (row.stripeSubscriptionId) {
        const id = row.stripeSubscriptionId;
        // Stripe's state, not the local row's: a missed webhook must not leave a live subscription behind.
        await unlessMissing(async () => {
          const current = await stripe.subscriptions.retrieve(id);
          if (!isFinalStatus(current.status)) await stripe.subscriptions.cancel(id);
        });
      }
      // Deleting the customer also cancels any other subscription it has, and removes its payment methods.
      await unlessMissing(() => stripe.customers.del(row.stripeCustomerId));
      logger.info({ userId }, 'Stripe subscription canceled and customer deleted for an account erasure');
    },

    async erase(tx: Queryable, userId: string) {
      const handled = ended.get(userId);
      ended.delete(userId);
      // The erasure holds the account row locked by now, so no checkout can add a customer after this read; one
      // added since `beforeErase` would survive at Stripe, chargeable, for an account that no longer exists.
      const row = await findSubscriptionOfUser(tx, userId);
      if (row && row.stripeCustomerId !== handled) {
        throw new ConflictError(
          'erasure-interrupted',
          'A billing change happened while the account was being erased; nothing was erased, try again',
        );
      }
      await deleteBillingOfUser(tx, userId);
    },
  };
}
