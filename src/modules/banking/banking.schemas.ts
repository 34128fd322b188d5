import { z } from 'zod';
import { CalendarDate, CurrencyCode, Id, Instant, int64, JS_ARRAY_MAX_LENGTH, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';

/**
 * Plaid's names and categories (institution, account, merchant, transaction) are `text` columns: the sync cuts them
 * to this length before storing them.
 */
export const PLAID_TEXT_MAX_CHARS = 255;

const PlaidText = z.string().max(PLAID_TEXT_MAX_CHARS);

/**
 * `bigint` cents as the export writes them: a JSON number while it is exact, the decimal digits beyond 2^53 (no
 * real balance is), so that no amount is rounded.
 */
const BigintCents = z.union([
  int64(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^-?\d+$/)
    .max(20),
]);

/** The `banking` section of the GDPR export: bank links, their accounts and transactions; never a Plaid token. */
export const BankingExport = z.object({
  items: z
    .array(
      z.object({
        id: Id,
        institutionId: z.string().max(255).nullable(),
        institutionName: PlaidText.nullable(),
        status: z.string().max(32),
        errorCode: z.string().max(64).nullable(),
        lastSyncedAt: Instant.nullable(),
        createdAt: Instant,
      }),
    )
    .max(JS_ARRAY_MAX_LENGTH),
  accounts: z
    .array(
      z.object({
        id: Id,
        itemId: Id,
        name: PlaidText,
        officialName: PlaidText.nullable(),
        mask: z.string().max(8).nullable(),
        type: z.string().max(32),
        subtype: z.string().max(64).nullable(),
        currentBalanceCents: BigintCents.nullable(),
        availableBalanceCents: BigintCents.nullable(),
        isoCurrencyCode: CurrencyCode.nullable(),
      }),
    )
    .max(JS_ARRAY_MAX_LENGTH),
  transactions: z
    .array(
      z.object({
        id: Id,
        accountId: Id,
        date: CalendarDate,
        amountCents: BigintCents.meta({
          description: 'Negative for money leaving the account, positive for money coming in',
        }),
        isoCurrencyCode: CurrencyCode.nullable(),
        name: PlaidText,
        merchantName: PlaidText.nullable(),
        category: PlaidText.nullable(),
        pending: z.boolean(),
      }),
    )
    .max(JS_ARRAY_MAX_LENGTH),
});

export const ITEM_STATUSES = ['healthy', 'login_required', 'pending_expiration', 'revoked'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** Plaid's public tokens and ids are short ASCII strings; the bound keeps a client from sending kilobytes. */
const PlaidToken = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'must be visible ASCII' });

export const LinkTokenBody = z
  .strictObject({
    itemId: Id.optional().meta({
      description: 'One of your items whose login needs repair: the Link token opens Link in update mode for it',
    }),
  })
  .meta({ id: 'CreateLinkToken' });
export type LinkTokenBody = z.infer<typeof LinkTokenBody>;

export const LinkToken = z
  .object({
    linkToken: z.string().max(255).meta({ description: 'Pass to Plaid Link on the device' }),
    expiration: Instant,
  })
  .meta({ id: 'LinkToken' });
export type LinkToken = z.infer<typeof LinkToken>;

export const ExchangeBody = z
  .strictObject({
    publicToken: PlaidToken.meta({ description: "The `public_token` Plaid Link's onSuccess gave the device" }),
  })
  .meta({ id: 'LinkBankItem' });
export type ExchangeBody = z.infer<typeof ExchangeBody>;

export const BankItem = z
  .object({
    id: Id,
    institutionId: z.string().max(255).nullable(),
    institutionName: PlaidText.nullable(),
    status: z.enum(ITEM_STATUSES).meta({
      description:
        '`login_required`: repair the login with a Link token in update mode; `pending_expiration`: the consent ' +
        'ends soon, same repair; `revoked`: the user withdrew access at the bank, unlink and link again',
    }),
    errorCode: z.string().max(64).nullable().meta({ description: "Plaid's error code of the last failure" }),
    lastSyncedAt: Instant.nullable().meta({ description: 'When the last complete sync finished' }),
    createdAt: Instant,
  })
  .meta({ id: 'BankItem' });
export type BankItem = z.infer<typeof BankItem>;
export const BankItemPage = pageOf(BankItem).meta({ id: 'BankItemPage' });
export const ItemListQuery = PageQuery;
export type ItemListQuery = z.infer<typeof ItemListQuery>;

export const ItemParams = z.object({ id: Id });

export const SyncAccepted = z
  .object({
    jobId: z.string().max(255),
    state: z.enum(['waiting', 'active', 'delayed', 'completed', 'failed', 'unknown']),
  })
  .meta({ id: 'BankSyncAccepted' });
export type SyncAccepted = z.infer<typeof SyncAccepted>;

/** Integer hundredths of the currency unit, exact (never a float). */
const Cents = int64(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

export const BankAccount = z
  .object({
    id: Id,
    itemId: Id,
    name: PlaidText,
    officialName: PlaidText.nullable(),
    mask: z.string().max(8).nullable().meta({ description: 'The last digits of the account number' }),
    type: z.string().max(32).meta({ example: 'depository' }),
    subtype: z.string().max(64).nullable().meta({ example: 'checking' }),
    currentBalanceCents: Cents.nullable().meta({
      description: 'As the institution reports it (for a credit account, the amount owed); null when it does not',
    }),
    availableBalanceCents: Cents.nullable(),
    isoCurrencyCode: z.string().length(3).nullable().meta({ example: 'USD' }),
  })
  .meta({ id: 'BankAccount' });
export type BankAccount = z.infer<typeof BankAccount>;
export const BankAccountPage = pageOf(BankAccount).meta({ id: 'BankAccountPage' });
export const AccountListQuery = PageQuery;
export type AccountListQuery = z.infer<typeof AccountListQuery>;

/** Plaid's primary personal-finance categories are upper-case words joined by `_` (`FOOD_AND_DRINK`). */
const Category = z
  .string()
  .max(64)
  .regex(/^[A-Za-z_]+$/, { message: 'must be a category such as FOOD_AND_DRINK' })
  .transform((c) => c.toUpperCase());

const dateRange = <T extends { from?: string | undefined; to?: string | undefined }>(query: T) =>
  query.from === undefined || query.to === undefined || query.from <= query.to;

export const TransactionListQuery = PageQuery.extend({
  from: CalendarDate.optional().meta({ description: 'Earliest date included' }),
  to: CalendarDate.optional().meta({ description: 'Latest date included' }),
  accountId: Id.optional().meta({ description: 'Only this account of yours' }),
  category: Category.optional().meta({ description: "Only this primary category (Plaid's, e.g. FOOD_AND_DRINK)" }),
}).refine(dateRange, { message: 'must not be after `to`', path: ['from'] });
export type TransactionListQuery = z.infer<typeof TransactionListQuery>;

export const BankTransaction = z
  .object({
    id: Id,
    accountId: Id,
    date: CalendarDate,
    amountCents: Cents.meta({
      description: 'Negative for money leaving the account, positive for money coming in; hundredths of the currency',
      example: -1250,
    }),
    isoCurrencyCode: z.string().length(3).nullable().meta({ example: 'USD' }),
    name: PlaidText,
    merchantName: PlaidText.nullable(),
    category: PlaidText.nullable().meta({ example: 'FOOD_AND_DRINK' }),
    pending: z.boolean(),
  })
  .meta({ id: 'BankTransaction' });
export type BankTransaction = z.infer<typeof BankTransaction>;
export const BankTransactionPage = pageOf(BankTransaction).meta({ id: 'BankTransactionPage' });

export const PlaidWebhookAck = z
  .object({
    received: z.literal(true),
    outcome: z.enum(['applied', 'ignored']),
  })
  .meta({ id: 'PlaidWebhookAck' });
export type PlaidWebhookAck = z.infer<typeof PlaidWebhookAck>;

/** What the webhook body holds that the service reads; the rest of Plaid's fields pass unread. */
export const PlaidWebhookBody = z
  .looseObject({
    webhook_type: text({ max: 64 }),
    webhook_code: text({ max: 64 }),
    item_id: text({ max: 255 }).optional(),
    error: z
      .looseObject({ error_code: text({ max: 64 }).optional() })
      .nullable()
      .optional(),
  })
  .meta({ id: 'PlaidWebhook', description: 'A Plaid webhook, as Plaid sends it (verified by its JWT, not by schema)' });
export type PlaidWebhookBody = z.infer<typeof PlaidWebhookBody>;
