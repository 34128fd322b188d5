import { clientOf, type Queryable } from '../../platform/db-access.js';

/** The user's bank links, accounts and transactions, oldest first (the GDPR export); never an access token or cursor. */
export async function bankDataOf(db: Queryable, userId: string) {
  const client = clientOf(db);
  const [items, accounts, transactions] = await Promise.all([
    client.plaidItem.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true, institutionId: true, institutionName: true, status: true, createdAt: true },
    }),
    client.bankAccount.findMany({
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
    client.bankTransaction.findMany({
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
  return { items, accounts, transactions };
}

/** Children first: the cascades would do it, but the erasure says what it removes. */
export async function deleteBankDataOf(tx: Queryable, userId: string): Promise<void> {
  const client = clientOf(tx);
  await client.bankTransaction.deleteMany({ where: { userId } });
  await client.bankAccount.deleteMany({ where: { userId } });
  await client.plaidItem.deleteMany({ where: { userId } });
}
