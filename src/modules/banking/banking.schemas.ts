import { z } from 'zod';
import { CalendarDate, CurrencyCode, Id, Instant, int64, JS_ARRAY_MAX_LENGTH } from '../../http/field-schemas.js';

/**
 * Plaid's names and categories (institution, account, merchant, transaction) are `text` columns, and nothing writes
 * them yet: whatever stores them must cut them to this length.
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
          description: "As stored: Plaid's sign, positive for money leaving the account",
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
