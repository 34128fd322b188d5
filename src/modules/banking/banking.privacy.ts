import type { DbClient } from '../../platform/db.js';
import type { PersonalDataSection } from '../privacy/privacy.registry.js';

/**
 * Bank links (Plaid items), their accounts and transactions. The tables exist ahead of the bank-links routes, so
 * whatever they hold is exported and erased like every other personal datum. Never exported: the Plaid access
 * token (a credential) and the sync cursor (Plaid's bookkeeping, not the user's data). When the bank-links module
 * lands it adds a `beforeErase` that revokes each item at Plaid (`/item/remove`) before the rows go.
 */
export function createBankingPrivacySection(): PersonalDataSection {
  return {
    name: 'banking',
    async export(db: DbClient, userId: string) {
      const [items, accounts, transactions] = await Promise.all([
        db.plaidItem.findMany({
          where: { userId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: { id: true, institutionId: true, institutionName: true, status: true, createdAt: true },
        }),
        db.bankAccount.findMany({
          where: { userId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: {
            id: true,
            itemId: true,
            name: true,
            officialName: true,
            mask: true,
            type: true,
            subtype: true,
            currentBalanceCents: true,
            availableBalanceCents: true,
            isoCurrencyCode: true,
          },
        }),
        db.bankTransaction.findMany({
          where: { userId },
          orderBy: [{ date: 'asc' }, { id: 'asc' }],
          select: {
            id: true,
            accountId: true,
            date: true,
            amountCents: true,
            isoCurrencyCode: true,
            name: true,
            merchantName: true,
            category: true,
            pending: true,
          },
        }),
      ]);
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
    async erase(tx: DbClient, userId: string) {
      // Children first: the cascades would do it, but the erasure says what it removes.
      await tx.bankTransaction.deleteMany({ where: { userId } });
      await tx.bankAccount.deleteMany({ where: { userId } });
      await tx.plaidItem.deleteMany({ where: { userId } });
    },
  };
}

/** BIGINT cents as a JSON number; beyond 2^53 (no bank balance is) as a string rather than a rounded number. */
function cents(value: bigint | null): number | string | null {
  if (value === null) return null;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
