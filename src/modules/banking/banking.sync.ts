import { randomUUID } from 'node:crypto';
import type { AccountBase, Transaction, TransactionsSyncResponse } from 'plaid';
import type { FieldCipher } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import { PermanentJobError } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import { type PlaidClient, PlaidRequestError } from '../../platform/plaid.js';
import type { AuditLog } from '../audit/audit.port.js';
import { centsOrNull, InexactAmountError, userSignedCents } from './banking.money.js';
import {
  type AccountData,
  accountIdsOfItem,
  type ClaimedItem,
  claimSyncLease,
  clearPageCursor,
  deleteTransactions,
  holdSyncLease,
  releaseSyncLease,
  saveSyncPosition,
  setItemError,
  type TransactionData,
  upsertAccounts,
  upsertTransactions,
} from './banking.repo.js';
import { PLAID_TEXT_MAX_CHARS } from './banking.schemas.js';
import { accessTokenContext } from './banking.service.js';

/** Plaid's maximum page: the fewest round trips for a large history. */
export const SYNC_PAGE_SIZE = 500;
/** A lease outlives a slow page (Plaid's timeout is 10 s) by far, and a dead worker's lease lapses soon. */
const LEASE_MS = 120_000;
/** Plaid changing the data under a pagination this often in a row is an outage; the job retries later. */
const MAX_MUTATION_RESTARTS = 3;
/** Passes one run makes while syncs keep being asked for meanwhile (each one a webhook or a request). */
const MAX_PASSES = 3;

export type SyncOutcome = 'synced' | 'busy' | 'gone' | 'item-error';

/** Another sync took the lease over (this one was slower than the lease), or the item was unlinked meanwhile. */
class LeaseLostError extends Error {
  constructor() {
    super('the sync lease was lost');
  }
}

const cut = (text: string | null | undefined) => (text ? text.slice(0, PLAID_TEXT_MAX_CHARS) : null);
const currency = (code: string | null | undefined) => (code && /^[A-Z]{3}$/.test(code) ? code : null);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function accountData(a: AccountBase): AccountData {
  return {
    plaidAccountId: a.account_id,
    name: cut(a.name) ?? 'Account',
    officialName: cut(a.official_name),
    mask: a.mask ? a.mask.slice(0, 8) : null,
    type: String(a.type).slice(0, 32),
    subtype: a.subtype ? String(a.subtype).slice(0, 64) : null,
    currentBalanceCents: centsOrNull(a.balances.current),
    availableBalanceCents: centsOrNull(a.balances.available),
    isoCurrencyCode: currency(a.balances.iso_currency_code),
  };
}

function transactionData(t: Transaction, accountId: string): TransactionData {
  if (!DATE.test(t.date)) throw new PermanentJobError('plaid-malformed', 'a transaction date is not YYYY-MM-DD');
  return {
    accountId,
    plaidTransactionId: t.transaction_id,
    date: t.date,
    amountCents: userSignedCents(t.amount),
    isoCurrencyCode: currency(t.iso_currency_code),
    name: cut(t.name) ?? cut(t.merchant_name) ?? 'Transaction',
    merchantName: cut(t.merchant_name),
    category: cut(t.personal_finance_category?.primary ?? t.category?.[0] ?? null),
    pending: t.pending === true,
  };
}

/** Plaid's item errors that only the user can clear (by repairing the login in Link's update mode). */
const ITEM_STATUS_OF_ERROR: Record<string, 'login_required'> = { ITEM_LOGIN_REQUIRED: 'login_required' };

export type BankSync = ReturnType<typeof createBankSync>;

/**
 * One item's sync (ADR 0019): its lease first, so two syncs of one item never run at once, then the accounts and
 * their balances, then `/transactions/sync` page by page from the stored cursor. Each page's added, modified and
 * removed transactions are applied in one transaction that also saves the cursor and checks the lease is still
 * held. `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION` restarts the update from its first cursor, the last one
 * saved complete, as Plaid requires.
 */
export function createBankSync(deps: {
  db: Db;
  plaid: PlaidClient;
  cipher: FieldCipher;
  auditLog: AuditLog;
  now: () => Date;
  pageSize?: number;
}) {
  const { db, plaid, cipher, auditLog, now } = deps;
  const pageSize = deps.pageSize ?? SYNC_PAGE_SIZE;

  /** A page's work, applied only while the lease is still this sync's. */
  function fenced<T>(item: ClaimedItem, leaseId: string, work: Parameters<Db['transaction']>[0]) {
    return db.transaction(async (tx) => {
      if (!(await holdSyncLease(tx, item.id, leaseId, LEASE_MS))) throw new LeaseLostError();
      return (await work(tx)) as T;
    });
  }

  async function refreshAccounts(item: ClaimedItem, leaseId: string, accessToken: string) {
    const { accounts } = await plaid.accountsGet({ access_token: accessToken });
    const data = accounts.map(accountData);
    return fenced<Map<string, string>>(item, leaseId, (tx) => upsertAccounts(tx, item, data));
  }

  async function applyPage(
    item: ClaimedItem,
    leaseId: string,
    page: TransactionsSyncResponse,
    accountIds: Map<string, string>,
    log: Logger,
  ) {
    const changed: TransactionData[] = [];
    let unknownAccount = 0;
    for (const t of [...page.added, ...page.modified]) {
      const accountId = accountIds.get(t.account_id);
      if (accountId) changed.push(transactionData(t, accountId));
      else unknownAccount += 1;
    }
    if (unknownAccount > 0) log.warn({ itemId: item.id, unknownAccount }, 'transactions of unknown accounts skipped');
    await fenced(item, leaseId, async (tx) => {
      await upsertTransactions(tx, item.userId, changed);
      await deleteTransactions(
        tx,
        item.id,
        page.removed.map((r) => r.transaction_id),
      );
      await saveSyncPosition(tx, item.id, { cursor: page.next_cursor, more: page.has_more, at: now() });
    });
  }

  async function syncOnce(item: ClaimedItem, leaseId: string, log: Logger): Promise<SyncOutcome> {
    const accessToken = cipher.decrypt(item.accessTokenEnc, accessTokenContext(item.userId), item.id);
    let accountIds = await refreshAccounts(item, leaseId, accessToken);
    const start = item.transactionsCursor;
    let cursor = item.syncPageCursor ?? start;
    let restarts = 0;
    let pages = 0;
    for (;;) {
      let page: TransactionsSyncResponse;
      try {
        page = await plaid.transactionsSync({
          access_token: accessToken,
          count: pageSize,
          ...(cursor ? { cursor } : {}),
        });
      } catch (err) {
        if (
          err instanceof PlaidRequestError &&
          err.errorCode === 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' &&
          restarts < MAX_MUTATION_RESTARTS
        ) {
          restarts += 1;
          log.info({ itemId: item.id, restarts }, 'Plaid data changed during pagination; restarting the update');
          cursor = start;
          await fenced(item, leaseId, (tx) => clearPageCursor(tx, item.id));
          continue;
        }
        throw err;
      }
      // An account opened since the accounts were read: read them again once for this page.
      if ([...page.added, ...page.modified].some((t) => !accountIds.has(t.account_id))) {
        accountIds = new Map([...accountIds, ...(await accountIdsOfItem(db, item.id))]);
        if ([...page.added, ...page.modified].some((t) => !accountIds.has(t.account_id))) {
          accountIds = await refreshAccounts(item, leaseId, accessToken);
        }
      }
      await applyPage(item, leaseId, page, accountIds, log);
      pages += 1;
      cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    log.info({ itemId: item.id, pages, restarts }, 'bank item synced');
    return 'synced';
  }

  /** An item error only the user can fix: recorded on the item (and audited), and the job ends without a retry. */
  async function recordItemError(item: ClaimedItem, err: PlaidRequestError) {
    const status = ITEM_STATUS_OF_ERROR[err.errorCode];
    await db.transaction(async (tx) => {
      // Not a login problem: the status the webhooks set stays, only the error is recorded.
      await setItemError(tx, item.id, err.errorCode, status);
      await auditLog.record(tx, {
        action: 'bank.sync_failed',
        userId: item.userId,
        targetType: 'plaid_item',
        targetId: item.id,
        fields: [`error:${err.errorCode}`],
      });
    });
  }

  return {
    async run(itemId: string, log: Logger): Promise<SyncOutcome> {
      let outcome: SyncOutcome = 'busy';
      for (let pass = 0; pass < MAX_PASSES; pass += 1) {
        const leaseId = randomUUID();
        const claimed = await claimSyncLease(db, itemId, leaseId, LEASE_MS);
        if (claimed === 'busy' || claimed === 'gone') {
          if (pass === 0) log.info({ itemId, outcome: claimed }, 'bank sync not run');
          return pass === 0 ? claimed : outcome;
        }
        let again = false;
        try {
          outcome = await syncOnce(claimed, leaseId, log);
        } catch (err) {
          if (err instanceof PlaidRequestError && err.errorType === 'ITEM_ERROR') {
            await recordItemError(claimed, err);
            log.warn({ itemId, plaidErrorCode: err.errorCode }, 'bank item needs the user; sync stopped');
            return 'item-error';
          }
          if (err instanceof LeaseLostError) {
            log.warn({ itemId }, 'bank sync lost its lease to another sync; stopped');
            return 'busy';
          }
          if (err instanceof InexactAmountError) throw new PermanentJobError('inexact-amount', err.message);
          if (err instanceof PlaidRequestError && !err.transient) {
            throw new PermanentJobError('plaid-refused', `${err.errorType} ${err.errorCode}`);
          }
          throw err;
        } finally {
          again = await releaseSyncLease(db, itemId, leaseId);
        }
        if (!again) return outcome;
      }
      return outcome;
    },
  };
}
