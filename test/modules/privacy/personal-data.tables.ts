import type { TestApp } from '../../support/app.js';

/**
 * Which export section holds which table. Every table with a `user_id` column must be listed under one section:
 * a test reads the database's own catalogue, so a table added later without a section fails it.
 */
export const SECTION_TABLES: Record<string, readonly string[]> = {
  sessions: ['refresh_tokens'],
  accountTokens: ['account_tokens'],
  apiKeys: ['api_keys'],
  auditLog: ['audit_log'],
  idempotencyKeys: ['idempotency_keys'],
  profile: ['user_profiles'],
  checkins: ['user_health_checkins'],
  questionnaireSubmissions: ['financial_questionnaire_submissions'],
  reminders: ['reminder_schedules'],
  reminderDeliveries: ['reminder_deliveries'],
  pushSubscriptions: ['push_subscriptions'],
  billing: ['subscriptions', 'billing_invoices'],
  banking: ['plaid_items', 'bank_accounts', 'bank_transactions'],
};

/** Every (table, column) of the public schema that names a user: `user_id` or `actor_id`. */
export async function userColumns(t: TestApp): Promise<Array<{ table: string; column: string }>> {
  const { rows } = await t.db.pool.query<{ table: string; column: string }>(
    `SELECT table_name AS table, column_name AS column FROM information_schema.columns
     WHERE table_schema = 'public' AND column_name IN ('user_id', 'actor_id') ORDER BY 1, 2`,
  );
  return rows;
}

/** Rows per (table.column) that name `userId`, plus the account row itself under `users.id`. */
export async function rowsReferring(t: TestApp, userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, column } of await userColumns(t)) {
    const { rows } = await t.db.pool.query(`SELECT count(*)::int AS n FROM "${table}" WHERE "${column}" = $1`, [
      userId,
    ]);
    counts[`${table}.${column}`] = rows[0].n;
  }
  const { rows } = await t.db.pool.query('SELECT count(*)::int AS n FROM users WHERE id = $1', [userId]);
  counts['users.id'] = rows[0].n;
  return counts;
}
