import { randomUUID } from 'node:crypto';
import type { CountryCode, Products } from 'plaid';
import type { Config } from '../../config/config.js';
import { ConflictError, HttpError, NotFoundError, UnavailableError, UnprocessableError } from '../../http/errors.js';
import { type Cursors, createdAtPosition } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import { type FieldCipher, fieldContext } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import { type PlaidClient, PlaidRequestError } from '../../platform/plaid.js';
import type { AuditLog } from '../audit/audit.port.js';
import {
  type AccountRow,
  credentialsOfUserItem,
  deleteItem,
  findItemByInstitution,
  findItemOfUser,
  type ItemCredentials,
  type ItemRow,
  insertItem,
  listAccounts,
  listItems,
  listTransactions,
  type TransactionRow,
} from './banking.repo.js';
import {
  type AccountListQuery,
  type BankAccount,
  type BankItem,
  type BankTransaction,
  type ExchangeBody,
  type ItemListQuery,
  type LinkToken,
  type LinkTokenBody,
  PLAID_TEXT_MAX_CHARS,
  type SyncAccepted,
  type TransactionListQuery,
} from './banking.schemas.js';

export type PlaidSettings = NonNullable<Config['banking']['plaid']>;

/** How the API asks for a sync: the job queue's side, built in app.ts. Absent without Redis. */
export interface SyncRequests {
  /** Enqueues the sync of `itemId` once per `key` (the job id), and says where that job stands. */
  request(itemId: string, key: string): Promise<SyncAccepted>;
}

export interface BankingServiceDeps {
  db: Db;
  auditLog: AuditLog;
  cipher: FieldCipher;
  cursors: Cursors;
  /** Both absent exactly when bank links are not configured. */
  plaid: PlaidClient | undefined;
  settings: PlaidSettings | undefined;
  syncs: SyncRequests | undefined;
  logger: Logger;
  now: () => Date;
}

export type BankingService = ReturnType<typeof createBankingService>;

export const bankingNotConfigured = () =>
  new UnavailableError('banking-not-configured', 'Bank links are not configured on this server');

/** A Plaid failure is the client's 502, never a 500; logged with Plaid's codes, never a token. */
export function plaidFailed(logger: Logger, what: string, err: unknown): HttpError<502> {
  const plaid = err instanceof PlaidRequestError ? err : undefined;
  logger.error(
    {
      err: { message: plaid ? plaid.message : (err as Error)?.message },
      plaidErrorCode: plaid?.errorCode,
      plaidRequestId: plaid?.requestId,
    },
    `Plaid ${what} failed`,
  );
  return new HttpError(502, 'banking-upstream-failed', 'The bank-link provider could not be reached; retry shortly');
}

/** Where an item's access token is bound, with the item's id as its row (the key rotation command uses the same). */
export const accessTokenContext = (userId: string) => fieldContext('plaid_items', 'access_token_enc', userId);

/** Plaid's answers when an item no longer exists on its side: removing it again is what we wanted anyway. */
const GONE_AT_PLAID = new Set(['ITEM_NOT_FOUND', 'INVALID_ACCESS_TOKEN']);

/**
 * Revokes the item's access token at Plaid (`/item/remove`). An item Plaid no longer knows counts as removed, so a
 * retried unlink or erasure gets past what an earlier attempt did; anything else throws.
 */
export async function removeAtPlaid(plaid: PlaidClient, cipher: FieldCipher, item: ItemCredentials): Promise<void> {
  const accessToken = cipher.decrypt(item.accessTokenEnc, accessTokenContext(item.userId), item.id);
  try {
    await plaid.itemRemove({ access_token: accessToken });
  } catch (err) {
    if (!(err instanceof PlaidRequestError && GONE_AT_PLAID.has(err.errorCode))) throw err;
  }
}

const cut = (text: string | null | undefined) => (text ? text.slice(0, PLAID_TEXT_MAX_CHARS) : null);

function itemView(row: ItemRow): BankItem {
  return {
    id: row.id,
    institutionId: row.institutionId,
    institutionName: row.institutionName,
    status: row.status,
    errorCode: row.errorCode,
    lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Stored cents are bounded by Number.MAX_SAFE_INTEGER on the way in (banking.money.ts): exact as numbers. */
const centsOf = (text: string | null) => (text === null ? null : Number(text));

function accountView(row: AccountRow): BankAccount {
  return {
    id: row.id,
    itemId: row.itemId,
    name: row.name,
    officialName: row.officialName,
    mask: row.mask,
    type: row.type,
    subtype: row.subtype,
    currentBalanceCents: centsOf(row.currentBalanceCents),
    availableBalanceCents: centsOf(row.availableBalanceCents),
    isoCurrencyCode: row.isoCurrencyCode,
  };
}

function transactionView(row: TransactionRow): BankTransaction {
  return { ...row, amountCents: Number(row.amountCents) };
}

export function createBankingService(deps: BankingServiceDeps) {
  const { db, auditLog, cipher, cursors, logger, now } = deps;
  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId });

  function configured(): { plaid: PlaidClient; settings: PlaidSettings } {
    if (!deps.plaid || !deps.settings) throw bankingNotConfigured();
    return { plaid: deps.plaid, settings: deps.settings };
  }

  async function upstream<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw plaidFailed(logger, what, err);
    }
  }

  const linkExists = (existing: ItemRow | undefined) =>
    new ConflictError(
      'bank-link-exists',
      existing
        ? `You already linked ${existing.institutionName ?? 'this institution'}: item ${existing.id}. Repair or unlink that one instead.`
        : 'You already linked this institution',
    );

  async function institutionName(settings: PlaidSettings, plaid: PlaidClient, institutionId: string) {
    try {
      const { institution } = await plaid.institutionsGetById({
        institution_id: institutionId,
        country_codes: settings.countryCodes as CountryCode[],
      });
      return cut(institution.name);
    } catch (err) {
      // The name is a label: the link stands without it.
      logger.warn({ err: { message: (err as Error).message } }, 'Plaid institution name unavailable');
      return null;
    }
  }

  /** Asks for a sync; a queue that cannot be reached leaves the item to the next webhook or manual sync. */
  async function requestSyncQuietly(itemId: string, key: string) {
    try {
      await deps.syncs?.request(itemId, key);
    } catch (err) {
      logger.warn({ itemId, err: { message: (err as Error).message } }, 'bank sync could not be enqueued');
    }
  }

  return {
    /** Throws 503 `banking-not-configured` when Plaid is not set up. */
    assertConfigured(): void {
      configured();
    },

    async linkToken(userId: string, body: LinkTokenBody): Promise<LinkToken> {
      const { plaid, settings } = configured();
      let accessToken: string | undefined;
      if (body.itemId) {
        const item = await credentialsOfUserItem(db, userId, body.itemId);
        if (!item) throw new NotFoundError('not-found', 'No such bank link');
        if (item.status === 'revoked') throw itemRevoked();
        accessToken = cipher.decrypt(item.accessTokenEnc, accessTokenContext(userId), item.id);
      }
      const created = await upstream('link token creation', () =>
        plaid.linkTokenCreate({
          user: { client_user_id: userId },
          client_name: 'Mingus',
          language: 'en',
          country_codes: settings.countryCodes as CountryCode[],
          webhook: settings.webhookUrl,
          // Update mode (repairing a login) names the item and no products.
          ...(accessToken ? { access_token: accessToken } : { products: ['transactions' as Products] }),
        }),
      );
      return { linkToken: created.link_token, expiration: new Date(created.expiration).toISOString() };
    },

    /**
     * Exchanges Link's public token for the item's access token, stored encrypted, then asks for a first sync.
     * Whatever fails after the exchange (the same institution linked already, the database) removes the new item
     * at Plaid again, so no link exists there that nothing here knows of.
     */
    async link(userId: string, body: ExchangeBody, ctx: RequestContext): Promise<BankItem> {
      const { plaid, settings } = configured();
      let exchanged: { access_token: string; item_id: string };
      try {
        exchanged = await plaid.itemPublicTokenExchange({ public_token: body.publicToken });
      } catch (err) {
        if (err instanceof PlaidRequestError && err.errorCode === 'INVALID_PUBLIC_TOKEN') {
          throw new UnprocessableError('invalid-public-token', 'The public token is unknown, spent or expired', [
            { path: 'body.publicToken', message: 'is not a valid Plaid public token' },
          ]);
        }
        throw plaidFailed(logger, 'public token exchange', err);
      }
      const accessToken = exchanged.access_token;
      try {
        const { item } = await upstream('item lookup', () => plaid.itemGet({ access_token: accessToken }));
        const institutionId = item.institution_id ?? null;
        if (institutionId) {
          const existing = await findItemByInstitution(db, userId, institutionId);
          if (existing) throw linkExists(existing);
        }
        const id = randomUUID();
        const row = await db.transaction(async (tx) => {
          const inserted = await insertItem(tx, {
            id,
            userId,
            plaidItemId: exchanged.item_id,
            accessTokenEnc: cipher.encrypt(accessToken, accessTokenContext(userId), id),
            institutionId,
            institutionName: institutionId ? await institutionName(settings, plaid, institutionId) : null,
          });
          if (inserted === 'duplicate') return inserted;
          await auditLog.record(tx, {
            action: 'bank.link',
            userId,
            targetType: 'plaid_item',
            targetId: id,
            fields: ['institution'],
            ...audit(ctx),
          });
          return inserted;
        });
        // Two links of one institution raced: the unique index kept the other.
        if (row === 'duplicate') {
          throw linkExists(institutionId ? await findItemByInstitution(db, userId, institutionId) : undefined);
        }
        await requestSyncQuietly(id, 'link');
        return itemView(row);
      } catch (err) {
        await plaid.itemRemove({ access_token: accessToken }).catch((removal: unknown) => {
          logger.error(
            { plaidItemId: exchanged.item_id, err: { message: (removal as Error).message } },
            'a Plaid item of a failed link could not be removed; remove it from the Plaid dashboard',
          );
        });
        throw err;
      }
    },

    async items(userId: string, query: ItemListQuery) {
      const rows = await listItems(db, userId, { after: cursors.decodeCreatedAt(query.cursor), take: query.limit + 1 });
      return cursors.page(rows, query.limit, createdAtPosition, itemView);
    },

    /**
     * Revokes the access token at Plaid first, then deletes the item, its accounts and transactions. Plaid
     * unreachable: 502 and nothing deleted, so the user retries — deleting first would keep a live link at Plaid
     * that nothing here could revoke any more.
     */
    async unlink(userId: string, id: string, ctx: RequestContext): Promise<void> {
      const { plaid } = configured();
      const item = await credentialsOfUserItem(db, userId, id);
      if (!item) throw new NotFoundError('not-found', 'No such bank link');
      await upstream('item removal', () => removeAtPlaid(plaid, cipher, item));
      await db.transaction(async (tx) => {
        if (!(await deleteItem(tx, userId, id))) throw new NotFoundError('not-found', 'No such bank link');
        await auditLog.record(tx, {
          action: 'bank.unlink',
          userId,
          targetType: 'plaid_item',
          targetId: id,
          ...audit(ctx),
        });
      });
    },

    /** Enqueues a sync now; at most one job per item and minute (the job id), whatever the number of requests. */
    async requestSync(userId: string, id: string): Promise<SyncAccepted> {
      configured();
      const item = await findItemOfUser(db, userId, id);
      if (!item) throw new NotFoundError('not-found', 'No such bank link');
      if (item.status === 'revoked') throw itemRevoked();
      if (!deps.syncs) throw jobsUnavailable();
      try {
        return await deps.syncs.request(id, `manual-${Math.floor(now().getTime() / 60_000)}`);
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message } }, 'bank sync could not be enqueued');
        throw jobsUnavailable();
      }
    },

    async accounts(userId: string, query: AccountListQuery) {
      configured();
      const rows = await listAccounts(db, userId, {
        after: cursors.decodeCreatedAt(query.cursor),
        take: query.limit + 1,
      });
      return cursors.page(rows, query.limit, (row) => ({ key: row.createdAt, id: row.id }), accountView);
    },

    async transactions(userId: string, query: TransactionListQuery) {
      configured();
      const rows = await listTransactions(db, userId, {
        from: query.from,
        to: query.to,
        accountId: query.accountId,
        category: query.category,
        after: cursors.decodeDated(query.cursor),
        take: query.limit + 1,
      });
      return cursors.page(rows, query.limit, (row) => ({ key: row.date, id: row.id }), transactionView);
    },
  };
}

const itemRevoked = () =>
  new ConflictError('bank-item-revoked', 'Access to this bank link was revoked at the bank; unlink it and link again');

const jobsUnavailable = () =>
  new UnavailableError('jobs-unavailable', 'Background jobs are unavailable right now; retry shortly');
