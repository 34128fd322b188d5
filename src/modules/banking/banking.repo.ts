import { Prisma } from '../../generated/prisma/client.js';
import {
  clientOf,
  execute,
  isoInstant,
  NEWEST_FIRST,
  olderThan,
  type Queryable,
  rowsOf,
} from '../../platform/db-access.js';
import { refusalOf } from '../../platform/db-errors.js';
import type { ItemStatus } from './banking.schemas.js';

/** The user's bank links, accounts and transactions, oldest first (the GDPR export); never an access token or cursor. */
export async function bankDataOf(db: Queryable, userId: string) {
  const client = clientOf(db);
  const [items, accounts, transactions] = await Promise.all([
    client.plaidItem.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: {
        id: true,
        institutionId: true,
        institutionName: true,
        status: true,
        errorCode: true,
        lastSyncedAt: true,
        createdAt: true,
      },
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

/** An item as the API shows it. */
export interface ItemRow {
  id: string;
  institutionId: string | null;
  institutionName: string | null;
  status: ItemStatus;
  errorCode: string | null;
  lastSyncedAt: Date | null;
  createdAt: Date;
}

const ITEM_COLUMNS = {
  id: true,
  institutionId: true,
  institutionName: true,
  status: true,
  errorCode: true,
  lastSyncedAt: true,
  createdAt: true,
} as const;

/** An item with what a call to Plaid needs: its Plaid id and its encrypted access token. */
export interface ItemCredentials {
  id: string;
  userId: string;
  plaidItemId: string;
  accessTokenEnc: string;
  status: ItemStatus;
}

const asItem = (row: { status: string } & Omit<ItemRow, 'status'>): ItemRow => ({
  ...row,
  status: row.status as ItemStatus,
});

export async function findItemOfUser(db: Queryable, userId: string, id: string): Promise<ItemRow | undefined> {
  const row = await clientOf(db).plaidItem.findFirst({ where: { id, userId }, select: ITEM_COLUMNS });
  return row ? asItem(row) : undefined;
}

export async function findItemByInstitution(
  db: Queryable,
  userId: string,
  institutionId: string,
): Promise<ItemRow | undefined> {
  const row = await clientOf(db).plaidItem.findFirst({ where: { userId, institutionId }, select: ITEM_COLUMNS });
  return row ? asItem(row) : undefined;
}

const CREDENTIAL_COLUMNS = { id: true, userId: true, plaidItemId: true, accessTokenEnc: true, status: true } as const;

export async function credentialsOfUserItem(
  db: Queryable,
  userId: string,
  id: string,
): Promise<ItemCredentials | undefined> {
  const row = await clientOf(db).plaidItem.findFirst({ where: { id, userId }, select: CREDENTIAL_COLUMNS });
  return row ? { ...row, status: row.status as ItemStatus } : undefined;
}

export async function credentialsOfUser(db: Queryable, userId: string): Promise<ItemCredentials[]> {
  const rows = await clientOf(db).plaidItem.findMany({ where: { userId }, select: CREDENTIAL_COLUMNS });
  return rows.map((row) => ({ ...row, status: row.status as ItemStatus }));
}

export async function findItemByPlaidId(
  db: Queryable,
  plaidItemId: string,
): Promise<{ id: string; userId: string; status: ItemStatus } | undefined> {
  const row = await clientOf(db).plaidItem.findUnique({
    where: { plaidItemId },
    select: { id: true, userId: true, status: true },
  });
  return row ? { ...row, status: row.status as ItemStatus } : undefined;
}

export interface NewItem {
  id: string;
  userId: string;
  plaidItemId: string;
  accessTokenEnc: string;
  institutionId: string | null;
  institutionName: string | null;
}

/** Inserts the item; `duplicate` when the user already links this institution (unique user_id, institution_id). */
export async function insertItem(db: Queryable, item: NewItem): Promise<ItemRow | 'duplicate'> {
  try {
    return asItem(await clientOf(db).plaidItem.create({ data: item, select: ITEM_COLUMNS }));
  } catch (err) {
    if (refusalOf(err) === 'unique') return 'duplicate';
    throw err;
  }
}

export async function listItems(
  db: Queryable,
  userId: string,
  page: { after: { createdAt: Date; id: string } | undefined; take: number },
): Promise<ItemRow[]> {
  const rows = await clientOf(db).plaidItem.findMany({
    where: { userId, ...olderThan(page.after) },
    orderBy: [...NEWEST_FIRST],
    take: page.take,
    select: ITEM_COLUMNS,
  });
  return rows.map(asItem);
}

/** Deletes the item; its accounts and their transactions go with it (ON DELETE CASCADE). */
export async function deleteItem(tx: Queryable, userId: string, id: string): Promise<boolean> {
  const { count } = await clientOf(tx).plaidItem.deleteMany({ where: { id, userId } });
  return count === 1;
}

/** A change of an item's health, from a webhook or a sync; `errorCode: null` clears the error. */
export async function setItemStatus(
  db: Queryable,
  id: string,
  change: { status: ItemStatus; errorCode: string | null },
): Promise<{ before: ItemStatus; userId: string } | undefined> {
  const rows = await rowsOf<{ before: ItemStatus; userId: string }>(
    db,
    Prisma.sql`UPDATE plaid_items AS i SET status = ${change.status}, error_code = ${change.errorCode},
        updated_at = now()
      FROM (SELECT id, status FROM plaid_items WHERE id = ${id}::uuid FOR UPDATE) AS old
      WHERE i.id = old.id
      RETURNING old.status AS before, i.user_id::text AS "userId"`,
  );
  return rows[0];
}

/** An account as the API shows it: balances as exact cents (bigint as text from the database). */
export interface AccountRow {
  id: string;
  itemId: string;
  name: string;
  officialName: string | null;
  mask: string | null;
  type: string;
  subtype: string | null;
  currentBalanceCents: string | null;
  availableBalanceCents: string | null;
  isoCurrencyCode: string | null;
  createdAt: string;
}

export function listAccountsSql(
  userId: string,
  page: { after: { createdAt: Date; id: string } | undefined; take: number },
): Prisma.Sql {
  const after = page.after
    ? Prisma.sql`AND (created_at, id) < (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)`
    : Prisma.empty;
  return Prisma.sql`SELECT id::text, item_id::text AS "itemId", name, official_name AS "officialName", mask, type,
      subtype, current_balance_cents::text AS "currentBalanceCents",
      available_balance_cents::text AS "availableBalanceCents", iso_currency_code AS "isoCurrencyCode",
      ${isoInstant('created_at')} AS "createdAt"
    FROM bank_accounts WHERE user_id = ${userId}::uuid ${after}
    ORDER BY created_at DESC, id DESC LIMIT ${page.take}`;
}

export function listAccounts(
  db: Queryable,
  userId: string,
  page: { after: { createdAt: Date; id: string } | undefined; take: number },
): Promise<AccountRow[]> {
  return rowsOf<AccountRow>(db, listAccountsSql(userId, page));
}

/** A transaction as the API shows it: the amount as exact cents (bigint as text), the date as YYYY-MM-DD. */
export interface TransactionRow {
  id: string;
  accountId: string;
  date: string;
  amountCents: string;
  isoCurrencyCode: string | null;
  name: string;
  merchantName: string | null;
  category: string | null;
  pending: boolean;
}

export interface TransactionFilter {
  from?: string | undefined;
  to?: string | undefined;
  accountId?: string | undefined;
  category?: string | undefined;
  after?: { date: string; id: string } | undefined;
  take: number;
}

/**
 * Newest date first, keyset-paginated on (date, id) over the (user_id, date, id) index: a page costs the same at
 * row 50 as at row 200,000. Exported so the test EXPLAINs exactly this text. ORDER BY names the table's columns:
 * unqualified, `date` and `id` would be the output's text columns of the same names, which no index orders, and every
 * page would sort all of the user's rows.
 */
export function listTransactionsSql(userId: string, filter: TransactionFilter): Prisma.Sql {
  const conditions = [Prisma.sql`user_id = ${userId}::uuid`];
  if (filter.from !== undefined) conditions.push(Prisma.sql`date >= ${filter.from}::date`);
  if (filter.to !== undefined) conditions.push(Prisma.sql`date <= ${filter.to}::date`);
  if (filter.accountId !== undefined) conditions.push(Prisma.sql`account_id = ${filter.accountId}::uuid`);
  if (filter.category !== undefined) conditions.push(Prisma.sql`category = ${filter.category}`);
  if (filter.after !== undefined) {
    conditions.push(Prisma.sql`(date, id) < (${filter.after.date}::date, ${filter.after.id}::uuid)`);
  }
  return Prisma.sql`SELECT id::text, account_id::text AS "accountId", to_char(date, 'YYYY-MM-DD') AS date,
      amount_cents::text AS "amountCents", iso_currency_code AS "isoCurrencyCode", name,
      merchant_name AS "merchantName", category, pending
    FROM bank_transactions WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY bank_transactions.date DESC, bank_transactions.id DESC LIMIT ${filter.take}`;
}

export function listTransactions(db: Queryable, userId: string, filter: TransactionFilter): Promise<TransactionRow[]> {
  return rowsOf<TransactionRow>(db, listTransactionsSql(userId, filter));
}

/* ----- sync ----- */

/** What a sync starts from, once it holds the item's lease. */
export interface ClaimedItem {
  id: string;
  userId: string;
  accessTokenEnc: string;
  transactionsCursor: string | null;
  syncPageCursor: string | null;
}

/**
 * Takes the item's sync lease when no live one exists (the database's clock decides, so workers on several hosts
 * agree). `busy`: another sync holds it — the request is recorded so that sync makes one more pass; `gone`: no such
 * item, or it is revoked.
 */
export async function claimSyncLease(
  db: Queryable,
  itemId: string,
  leaseId: string,
  leaseMs: number,
): Promise<ClaimedItem | 'busy' | 'gone'> {
  const claimed = await rowsOf<ClaimedItem>(
    db,
    Prisma.sql`UPDATE plaid_items SET sync_lease_id = ${leaseId}::uuid,
        sync_lease_until = clock_timestamp() + make_interval(secs => ${leaseMs / 1000}), sync_requested_at = NULL
      WHERE id = ${itemId}::uuid AND status <> 'revoked'
        AND (sync_lease_until IS NULL OR sync_lease_until < clock_timestamp())
      RETURNING id::text, user_id::text AS "userId", access_token_enc AS "accessTokenEnc",
        transactions_cursor AS "transactionsCursor", sync_page_cursor AS "syncPageCursor"`,
  );
  if (claimed[0]) return claimed[0];
  const requested = await execute(
    db,
    Prisma.sql`UPDATE plaid_items SET sync_requested_at = clock_timestamp()
      WHERE id = ${itemId}::uuid AND status <> 'revoked'`,
  );
  return requested === 1 ? 'busy' : 'gone';
}

/**
 * Inside a page's transaction: locks the item if the lease is still this sync's and extends it; false when another
 * sync took it over (this one was too slow) or the item was unlinked — nothing of the page may then be applied.
 */
export async function holdSyncLease(tx: Queryable, itemId: string, leaseId: string, leaseMs: number) {
  const held = await execute(
    tx,
    Prisma.sql`UPDATE plaid_items SET sync_lease_until = clock_timestamp() + make_interval(secs => ${leaseMs / 1000})
      WHERE id = ${itemId}::uuid AND sync_lease_id = ${leaseId}::uuid`,
  );
  return held === 1;
}

/** Gives the lease back; true when a sync was asked for meanwhile (the holder then makes another pass). */
export async function releaseSyncLease(db: Queryable, itemId: string, leaseId: string): Promise<boolean> {
  const rows = await rowsOf<{ again: boolean }>(
    db,
    Prisma.sql`UPDATE plaid_items SET sync_lease_id = NULL, sync_lease_until = NULL
      WHERE id = ${itemId}::uuid AND sync_lease_id = ${leaseId}::uuid
      RETURNING sync_requested_at IS NOT NULL AS again`,
  );
  return rows[0]?.again ?? false;
}

/** Records a sync's item error; `status` given: the item's health changes too. */
export async function setItemError(tx: Queryable, id: string, errorCode: string, status: ItemStatus | undefined) {
  await execute(
    tx,
    Prisma.sql`UPDATE plaid_items SET error_code = ${errorCode}, status = COALESCE(${status ?? null}, status),
        updated_at = now()
      WHERE id = ${id}::uuid`,
  );
}

export interface AccountData {
  plaidAccountId: string;
  name: string;
  officialName: string | null;
  mask: string | null;
  type: string;
  subtype: string | null;
  currentBalanceCents: bigint | null;
  availableBalanceCents: bigint | null;
  isoCurrencyCode: string | null;
}

/** Inserts or refreshes the item's accounts; answers our id of each Plaid account id. */
export async function upsertAccounts(
  tx: Queryable,
  item: { id: string; userId: string },
  accounts: AccountData[],
): Promise<Map<string, string>> {
  if (accounts.length === 0) return new Map();
  const col = <K extends keyof AccountData>(key: K) => accounts.map((a) => a[key]);
  const cents = (values: (bigint | null)[]) => values.map((v) => (v === null ? null : v.toString()));
  const rows = await rowsOf<{ id: string; plaidAccountId: string }>(
    tx,
    Prisma.sql`INSERT INTO bank_accounts (item_id, user_id, plaid_account_id, name, official_name, mask, type, subtype,
        current_balance_cents, available_balance_cents, iso_currency_code)
      SELECT ${item.id}::uuid, ${item.userId}::uuid, a.* FROM unnest(${col('plaidAccountId')}::text[],
        ${col('name')}::text[], ${col('officialName')}::text[], ${col('mask')}::text[], ${col('type')}::text[],
        ${col('subtype')}::text[], ${cents(col('currentBalanceCents'))}::bigint[],
        ${cents(col('availableBalanceCents'))}::bigint[], ${col('isoCurrencyCode')}::text[]) AS a
      ON CONFLICT (plaid_account_id) DO UPDATE SET name = EXCLUDED.name, official_name = EXCLUDED.official_name,
        mask = EXCLUDED.mask, type = EXCLUDED.type, subtype = EXCLUDED.subtype,
        current_balance_cents = EXCLUDED.current_balance_cents,
        available_balance_cents = EXCLUDED.available_balance_cents,
        iso_currency_code = EXCLUDED.iso_currency_code, updated_at = now()
      -- An id Plaid gave to another item is never taken over.
      WHERE bank_accounts.item_id = EXCLUDED.item_id
      RETURNING id::text, plaid_account_id AS "plaidAccountId"`,
  );
  return new Map(rows.map((r) => [r.plaidAccountId, r.id]));
}

/** Our id of each of the item's Plaid account ids. */
export async function accountIdsOfItem(db: Queryable, itemId: string): Promise<Map<string, string>> {
  const rows = await clientOf(db).bankAccount.findMany({
    where: { itemId },
    select: { id: true, plaidAccountId: true },
  });
  return new Map(rows.map((r) => [r.plaidAccountId, r.id]));
}

export interface TransactionData {
  accountId: string;
  plaidTransactionId: string;
  date: string;
  amountCents: bigint;
  isoCurrencyCode: string | null;
  name: string;
  merchantName: string | null;
  category: string | null;
  pending: boolean;
}

/** Inserts or updates a page's added and modified transactions in one statement. */
export async function upsertTransactions(tx: Queryable, userId: string, rows: TransactionData[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof TransactionData>(key: K) => rows.map((r) => r[key]);
  await execute(
    tx,
    Prisma.sql`INSERT INTO bank_transactions (user_id, account_id, plaid_transaction_id, date, amount_cents,
        iso_currency_code, name, merchant_name, category, pending)
      SELECT ${userId}::uuid, t.* FROM unnest(${col('accountId')}::uuid[], ${col('plaidTransactionId')}::text[],
        ${col('date')}::date[], ${col('amountCents').map(String)}::bigint[], ${col('isoCurrencyCode')}::text[],
        ${col('name')}::text[], ${col('merchantName')}::text[], ${col('category')}::text[],
        ${col('pending')}::boolean[]) AS t
      ON CONFLICT (plaid_transaction_id) DO UPDATE SET account_id = EXCLUDED.account_id, date = EXCLUDED.date,
        amount_cents = EXCLUDED.amount_cents, iso_currency_code = EXCLUDED.iso_currency_code, name = EXCLUDED.name,
        merchant_name = EXCLUDED.merchant_name, category = EXCLUDED.category, pending = EXCLUDED.pending,
        updated_at = now()
      WHERE bank_transactions.user_id = EXCLUDED.user_id`,
  );
}

/** Deletes the removed transactions of the item's accounts (another item's ids are left alone). */
export async function deleteTransactions(tx: Queryable, itemId: string, plaidIds: string[]): Promise<void> {
  if (plaidIds.length === 0) return;
  await execute(
    tx,
    Prisma.sql`DELETE FROM bank_transactions AS t USING bank_accounts AS a
      WHERE t.account_id = a.id AND a.item_id = ${itemId}::uuid AND t.plaid_transaction_id = ANY(${plaidIds}::text[])`,
  );
}

/**
 * Saves where the sync stands, in the page's transaction: `more` (has_more was true): the cursor of the update in
 * progress; otherwise the update is complete — its cursor becomes the item's, the item is healthy again.
 */
export async function saveSyncPosition(
  tx: Queryable,
  itemId: string,
  position: { cursor: string | null; more: boolean; at: Date },
): Promise<void> {
  await execute(
    tx,
    position.more
      ? Prisma.sql`UPDATE plaid_items SET sync_page_cursor = ${position.cursor}, updated_at = now()
          WHERE id = ${itemId}::uuid`
      : Prisma.sql`UPDATE plaid_items SET transactions_cursor = ${position.cursor}, sync_page_cursor = NULL,
          last_synced_at = ${position.at}, error_code = NULL,
          status = CASE WHEN status = 'login_required' THEN 'healthy' ELSE status END, updated_at = now()
          WHERE id = ${itemId}::uuid`,
  );
}

/** Forgets the cursor of an update in progress: Plaid said its data changed mid-way (restart from the last complete). */
export async function clearPageCursor(tx: Queryable, itemId: string): Promise<void> {
  await execute(tx, Prisma.sql`UPDATE plaid_items SET sync_page_cursor = NULL WHERE id = ${itemId}::uuid`);
}
