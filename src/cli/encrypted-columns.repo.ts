import { Prisma } from '../generated/prisma/client.js';
import { execute, type Queryable, rowsOf } from '../platform/db-access.js';

/**
 * Every encrypted column. The context of each value is fieldContext(table, column, user_id) — the convention every
 * module follows — so a column added with another convention must not be listed here without its own context.
 * `rowBound`: the module binds each value to its row's id too (a `v2` envelope, ADR 0009), so `keys:rotate` rewrites
 * the column's owner-bound (`v1`) values into that form. A column becomes row-bound only together with its module:
 * a module that reads without the row id cannot read a row-bound value.
 */
export const ENCRYPTED_COLUMNS = [
  // One profile row per user, keyed by it: the owner binding already names the row.
  { table: 'user_profiles', column: 'monthly_income_enc', key: 'user_id', rowBound: false },
  { table: 'user_profiles', column: 'current_savings_enc', key: 'user_id', rowBound: false },
  { table: 'user_profiles', column: 'current_debt_enc', key: 'user_id', rowBound: false },
  { table: 'user_health_checkins', column: 'notes_enc', key: 'id', rowBound: true },
  { table: 'financial_questionnaire_submissions', column: 'answers_enc', key: 'id', rowBound: true },
  // No module reads these yet: the bank-link module will read each with its item's id.
  { table: 'plaid_items', column: 'access_token_enc', key: 'id', rowBound: true },
  { table: 'push_subscriptions', column: 'keys_enc', key: 'id', rowBound: true },
] as const;
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

export interface StoredValue {
  pk: string;
  userId: string;
  value: string;
}

/** Identifiers come from the constant list above, never from input. */
const names = ({ table, column, key }: EncryptedColumn) => ({
  table: Prisma.raw(table),
  column: Prisma.raw(column),
  key: Prisma.raw(key),
});

/**
 * The next `batch` values not in their current form (`currentFormPattern`, a LIKE pattern: the current key, and for a
 * row-bound column the row-bound envelope), after primary key `after`: keyset over the primary key, so a value that
 * fails is passed over rather than read again forever.
 */
export function valuesNotUnder(
  db: Queryable,
  col: EncryptedColumn,
  currentFormPattern: string,
  after: string | null,
  batch: number,
): Promise<StoredValue[]> {
  const { table, column, key } = names(col);
  return rowsOf<StoredValue>(
    db,
    Prisma.sql`SELECT ${key}::text AS pk, user_id::text AS "userId", ${column} AS value FROM ${table}
      WHERE ${column} IS NOT NULL AND ${column} NOT LIKE ${currentFormPattern}
        AND (${after}::uuid IS NULL OR ${key} > ${after}::uuid)
      ORDER BY ${key} LIMIT ${batch}`,
  );
}

/**
 * Writes each new value where the column still holds the old one it replaces (a concurrent write by the API, already
 * under the current key, wins); answers how many were written.
 */
export function replaceValues(
  db: Queryable,
  col: EncryptedColumn,
  values: { pks: string[]; olds: string[]; news: string[] },
): Promise<number> {
  const { table, column, key } = names(col);
  return execute(
    db,
    Prisma.sql`UPDATE ${table} AS t SET ${column} = v.new
      FROM unnest(${values.pks}::uuid[], ${values.olds}::text[], ${values.news}::text[]) AS v(pk, old, new)
      WHERE t.${key} = v.pk AND t.${column} = v.old`,
  );
}
