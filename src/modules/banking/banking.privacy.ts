import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { bankDataOf, deleteBankDataOf } from './banking.repo.js';

/**
 * Bank links (Plaid items), their accounts and transactions. The tables exist ahead of the bank-links routes, so
 * whatever they hold is exported and erased like every other personal datum. Never exported: the Plaid access
 * token (a credential) and the sync cursor (Plaid's bookkeeping, not the user's data). When the bank-links module
 * lands it adds a `beforeErase` that revokes each item at Plaid (`/item/remove`) before the rows go.
 */
export function createBankingPrivacySection(): PersonalDataSection {
  return {
    name: 'banking',
    async export(db: Queryable, userId: string) {
      const { items, accounts, transactions } = await bankDataOf(db, userId);
      return {
        items: items.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })),
        accounts: accounts.map((a) => ({
          ...a,
          currentBalanceCents: cents(a.currentBalanceCents),
          availableBalanceCents: cents(a.availableBalanceCents),
        })),
        transactions: transactions.map((t) => ({
          ...t,
          date: t.date.toISOString().slice(0, 10),
          amountCents: cents(t.amountCents),
        })),
      };
    },
    erase: deleteBankDataOf,
  };
}

/** BIGINT cents as a JSON number; beyond 2^53 (no bank balance is) as a string rather than a rounded number. */
function cents(value: bigint | null): number | string | null {
  if (value === null) return null;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
