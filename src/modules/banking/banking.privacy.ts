import type { FieldCipher } from '../../platform/crypto.js';
import type { Queryable } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { PlaidClient } from '../../platform/plaid.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { bankDataOf, credentialsOfUser, deleteBankDataOf } from './banking.repo.js';
import { bankingNotConfigured, plaidFailed, removeAtPlaid } from './banking.service.js';

/**
 * Bank links (Plaid items), their accounts and transactions, exported and erased like every other personal datum.
 * Never exported: the Plaid access token (a credential) and the sync cursors and lease (Plaid's and the sync's
 * bookkeeping, not the user's data). Erasure first revokes every item at Plaid (`/item/remove`), so an erased
 * account leaves no live bank link behind; a failure there refuses the erasure with nothing erased.
 */
export function createBankingPrivacySection(deps: {
  /** Absent when bank links are not configured. */
  plaid: PlaidClient | undefined;
  cipher: FieldCipher;
  logger: Logger;
}): PersonalDataSection {
  return {
    name: 'banking',
    async beforeErase(db: Queryable, userId: string) {
      const items = await credentialsOfUser(db, userId);
      if (items.length === 0) return;
      // Live links exist at Plaid and nothing here can revoke them: refuse rather than erase and leave them.
      if (!deps.plaid) throw bankingNotConfigured();
      for (const item of items) {
        try {
          await removeAtPlaid(deps.plaid, deps.cipher, item);
        } catch (err) {
          throw plaidFailed(deps.logger, 'item removal for an account erasure', err);
        }
      }
      deps.logger.info({ userId, items: items.length }, 'bank links removed at Plaid for an account erasure');
    },
    async export(db: Queryable, userId: string) {
      const { items, accounts, transactions } = await bankDataOf(db, userId);
      return {
        items: items.map((i) => ({
          ...i,
          lastSyncedAt: i.lastSyncedAt?.toISOString() ?? null,
          createdAt: i.createdAt.toISOString(),
        })),
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
