import { randomUUID } from 'node:crypto';
import { createFieldCipher, fieldContext } from '../../../src/platform/crypto.js';
import type { TestApp } from '../../support/app.js';

/**
 * One row in every table that holds personal data, written with SQL as each module stores it (encrypted columns
 * under the app's own key and context), each carrying a marker unique to this user so the export can be searched
 * for it whatever shape a module gives its section.
 */
export interface SeededUser {
  /** Per table: a value that must appear in the export when the table's section is registered. */
  markers: Record<string, string>;
  /** Stored values that must never appear in an export: hashes and bank credentials. */
  secrets: string[];
}

export async function seedPersonalData(t: TestApp, userId: string): Promise<SeededUser> {
  const cipher = createFieldCipher(t.config.fieldEncryption);
  const tag = randomUUID().slice(0, 8);
  const q = (sql: string, values: unknown[]) => t.db.pool.query(sql, values);
  const enc = (table: string, column: string, value: string) =>
    cipher.encrypt(value, fieldContext(table, column, userId));

  const userAgent = `SeedAgent/${tag}`;
  await q(
    `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, user_agent, ip)
     VALUES ($1, gen_random_uuid(), $2, now() + interval '1 day', $3, '198.51.100.9')`,
    [userId, `seed-token-hash-${tag}`, userAgent],
  );
  await q(
    `INSERT INTO api_keys (user_id, name, prefix, key_hash, expires_at) VALUES ($1, $2, 'mk_seed0000', $3, now() + interval '90 days')`,
    [userId, `seed key ${tag}`, `seed-key-hash-${tag}`],
  );
  const accountTokenHash = `${tag}`.padEnd(64, 'f');
  const accountToken = await q(
    `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at) VALUES ($1, 'password_reset', $2, now() + interval '1 hour') RETURNING id`,
    [userId, accountTokenHash],
  );
  const income = String(100_000 + Number.parseInt(tag.slice(0, 4), 16));
  await q(
    `INSERT INTO user_profiles (user_id, monthly_income_enc, current_savings_enc, current_debt_enc, household_size, city, state, zip_code, timezone, goals)
     VALUES ($1, $2, $3, $4, 2, $5, 'GA', '30303', 'America/New_York', '{}')`,
    [
      userId,
      cipher.encryptInt(Number(income), fieldContext('user_profiles', 'monthly_income_enc', userId)),
      cipher.encryptInt(5_000, fieldContext('user_profiles', 'current_savings_enc', userId)),
      cipher.encryptInt(7_000, fieldContext('user_profiles', 'current_debt_enc', userId)),
      `Seedville ${tag}`,
    ],
  );
  const note = `seed note ${tag}`;
  await q(
    `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating, sleep_hours,
       physical_activity_minutes, mindfulness_minutes, notes_enc)
     VALUES ($1, current_date - 3, 4, 7, 8, 7.5, 30, 10, $2)`,
    [userId, enc('user_health_checkins', 'notes_enc', note)],
  );
  const answer = `seed answer ${tag}`;
  await q(
    `INSERT INTO financial_questionnaire_submissions (user_id, questionnaire_slug, definition_version, answers_enc, score, band, recommendations)
     VALUES ($1, 'money-stress', 1, $2, 40, 'moderate', '[]')`,
    [userId, enc('financial_questionnaire_submissions', 'answers_enc', JSON.stringify({ q1: 3, note: answer }))],
  );
  const reminder = `seed reminder ${tag}`;
  const { rows: reminders } = await q(
    `INSERT INTO reminder_schedules (user_id, title, due_date, anchor_day) VALUES ($1, $2, current_date + 3, EXTRACT(DAY FROM current_date + 3)) RETURNING id`,
    [userId, reminder],
  );
  const reminderId = reminders[0].id as string;
  const deliveryCode = `seed-${tag}`.slice(0, 64);
  await q(
    `INSERT INTO reminder_deliveries (reminder_id, user_id, occurrence, channel, status, attempts, last_error_code)
     VALUES ($1, $2, current_date, 'email', 'failed', 1, $3)`,
    [reminderId, userId, deliveryCode],
  );
  const pushEndpoint = `https://push.example.com/seed-${tag}`;
  await q(`INSERT INTO push_subscriptions (user_id, endpoint, keys_enc) VALUES ($1, $2, $3)`, [
    userId,
    pushEndpoint,
    enc('push_subscriptions', 'keys_enc', JSON.stringify({ p256dh: `seed-p256dh-${tag}`, auth: `seed-auth-${tag}` })),
  ]);
  const n = Number.parseInt(tag.slice(0, 5), 16);
  // An instant and an amount unique to this user: any export of a subscription or an invoice shows them.
  const periodEnd = new Date(Date.UTC(2031, 0, 1) + (n % 500_000) * 60_000).toISOString();
  await q(
    `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_end)
     VALUES ($1, $2, $3, 'mid_tier', 'active', $4)`,
    [userId, `cus_seed${tag}`, `sub_seed${tag}`, periodEnd],
  );
  const invoiceCents = String(700_000 + (n % 100_000));
  await q(
    `INSERT INTO billing_invoices (user_id, stripe_invoice_id, amount_due_cents, amount_paid_cents, currency, status)
     VALUES ($1, $2, $3, $3, 'usd', 'paid')`,
    [userId, `in_seed${tag}`, invoiceCents],
  );
  const accessToken = `access-sandbox-seed-${tag}`;
  const accessTokenEnc = enc('plaid_items', 'access_token_enc', accessToken);
  const institution = `Seed Bank ${tag}`;
  const item = await q(
    `INSERT INTO plaid_items (user_id, plaid_item_id, access_token_enc, institution_name) VALUES ($1, $2, $3, $4) RETURNING id`,
    [userId, `item-seed-${tag}`, accessTokenEnc, institution],
  );
  const account = `Seed Checking ${tag}`;
  const acct = await q(
    `INSERT INTO bank_accounts (item_id, user_id, plaid_account_id, name, type, iso_currency_code) VALUES ($1, $2, $3, $4, 'depository', 'USD') RETURNING id`,
    [item.rows[0].id, userId, `acct-seed-${tag}`, account],
  );
  const transaction = `Seed Coffee ${tag}`;
  await q(
    `INSERT INTO bank_transactions (account_id, user_id, plaid_transaction_id, date, amount_cents, iso_currency_code, name)
     VALUES ($1, $2, $3, current_date - 1, 450, 'USD', $4)`,
    [acct.rows[0].id, userId, `tx-seed-${tag}`, transaction],
  );
  const auditRequest = `seed-request-${tag}`;
  await q(
    `INSERT INTO audit_log (user_id, action, fields, request_id) VALUES ($1, 'profile.update', '{monthlyIncomeCents}', $2)`,
    [userId, auditRequest],
  );
  const idempotencyKey = `seed-idem-${tag}`;
  await q(
    `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, state, response_status, response_body, expires_at)
     VALUES ($1, $2, 'POST', '/api/v1/checkins', 'seed-request-hash', 'completed', 201, '{"id":"x"}', now() + interval '1 day')`,
    [userId, idempotencyKey],
  );

  return {
    markers: {
      refresh_tokens: userAgent,
      api_keys: `seed key ${tag}`,
      account_tokens: accountToken.rows[0].id,
      user_profiles: income,
      user_health_checkins: note,
      financial_questionnaire_submissions: answer,
      reminder_schedules: reminder,
      reminder_deliveries: deliveryCode,
      push_subscriptions: pushEndpoint,
      subscriptions: periodEnd,
      billing_invoices: invoiceCents,
      plaid_items: institution,
      bank_accounts: account,
      bank_transactions: transaction,
      audit_log: auditRequest,
      idempotency_keys: idempotencyKey,
    },
    secrets: [
      `seed-token-hash-${tag}`,
      `seed-key-hash-${tag}`,
      accountTokenHash,
      accessToken,
      accessTokenEnc,
      'seed-request-hash',
      `seed-auth-${tag}`,
    ],
  };
}
