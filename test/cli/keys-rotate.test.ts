import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldCipher, FieldDecryptionError, fieldContext } from '../../src/platform/crypto.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';
import { runCli } from '../support/cli.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const KEYS = `a:${keyA.toString('base64')},b:${keyB.toString('base64')}`;
const underA = createFieldCipher({ keys: new Map([['a', keyA]]), currentKeyId: 'a' });
const onlyB = createFieldCipher({ keys: new Map([['b', keyB]]), currentKeyId: 'b' });

const COLUMNS = [
  ['user_profiles', 'monthly_income_enc'],
  ['user_profiles', 'current_savings_enc'],
  ['user_profiles', 'current_debt_enc'],
  ['user_health_checkins', 'notes_enc'],
  ['financial_questionnaire_submissions', 'answers_enc'],
  ['plaid_items', 'access_token_enc'],
  ['push_subscriptions', 'keys_enc'],
] as const;

/** The API with both keys, B current: what runs while the rotation happens. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { FIELD_ENCRYPTION_KEYS: KEYS, FIELD_ENCRYPTION_KEY_ID: 'b' } });
});
afterAll(() => t.close());

const rotate = (args: string[] = []) =>
  runCli('keys-rotate', args, {
    DATABASE_URL: t.database.url,
    FIELD_ENCRYPTION_KEYS: KEYS,
    FIELD_ENCRYPTION_KEY_ID: 'b',
  });

/** Every value of every encrypted column, with the plaintext it was written with, written under key A. */
async function seedUnderA(userId: string, n: number) {
  const enc = (table: string, column: string, text: string) =>
    underA.encrypt(text, fieldContext(table, column, userId));
  const plain = {
    monthly_income_enc: `${500_000 + n}`,
    current_savings_enc: `${1_000 + n}`,
    current_debt_enc: `${2_000 + n}`,
    notes_enc: `note ${n} ✓`,
    answers_enc: JSON.stringify({ q1: 3, note: `answer ${n}` }),
    access_token_enc: `access-sandbox-${n}`,
    keys_enc: JSON.stringify({ p256dh: `p256dh-${n}`, auth: `auth-${n}` }),
  };
  const q = (sql: string, values: unknown[]) => t.db.pool.query(sql, values);
  await q(
    `INSERT INTO user_profiles (user_id, monthly_income_enc, current_savings_enc, current_debt_enc) VALUES ($1, $2, $3, $4)`,
    [
      userId,
      enc('user_profiles', 'monthly_income_enc', plain.monthly_income_enc),
      enc('user_profiles', 'current_savings_enc', plain.current_savings_enc),
      enc('user_profiles', 'current_debt_enc', plain.current_debt_enc),
    ],
  );
  for (const day of [1, 2, 3]) {
    await q(
      `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating, sleep_hours,
         physical_activity_minutes, mindfulness_minutes, notes_enc)
       VALUES ($1, current_date - $2::int, 5, 5, 5, 8, 0, 0, $3)`,
      [userId, day, day === 3 ? null : enc('user_health_checkins', 'notes_enc', plain.notes_enc)],
    );
  }
  await q(
    `INSERT INTO financial_questionnaire_submissions (user_id, questionnaire_slug, definition_version, answers_enc, score, band, recommendations)
     VALUES ($1, 'money-stress', 1, $2, 50, 'moderate', '[]')`,
    [userId, enc('financial_questionnaire_submissions', 'answers_enc', plain.answers_enc)],
  );
  await q(`INSERT INTO plaid_items (user_id, plaid_item_id, access_token_enc) VALUES ($1, $2, $3)`, [
    userId,
    `item-${userId}`,
    enc('plaid_items', 'access_token_enc', plain.access_token_enc),
  ]);
  await q(`INSERT INTO push_subscriptions (user_id, endpoint, keys_enc) VALUES ($1, $2, $3)`, [
    userId,
    `https://push.example.com/${userId}`,
    enc('push_subscriptions', 'keys_enc', plain.keys_enc),
  ]);
  return plain;
}

/** The columns whose values are bound to their row too (ADR 0009): decrypted with the row's id. */
const ROW_BOUND = new Set(['notes_enc', 'answers_enc', 'keys_enc', 'access_token_enc']);

async function valuesOf(userId: string) {
  const out: Array<{ column: string; value: string; rowId: string | undefined }> = [];
  for (const [table, column] of COLUMNS) {
    const key = table === 'user_profiles' ? 'user_id' : 'id';
    const { rows } = await t.db.pool.query(
      `SELECT ${key}::text AS pk, ${column} AS value FROM ${table} WHERE user_id = $1 AND ${column} IS NOT NULL`,
      [userId],
    );
    for (const row of rows) out.push({ column, value: row.value, rowId: ROW_BOUND.has(column) ? row.pk : undefined });
  }
  return out;
}

const underKey = async (keyId: string) => {
  let n = 0;
  for (const [table, column] of COLUMNS) {
    // Either form: owner-bound (v1) or row-bound (v2).
    const { rows } = await t.db.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} LIKE $1`, [
      `v_.${keyId}.%`,
    ]);
    n += rows[0].n;
  }
  return n;
};

describe('npm run keys:rotate', { timeout: 60_000 }, () => {
  it('when rows were written under key A and B is now current, re-encrypts them all under B, intact, and a rerun changes 0', async () => {
    const ann = await registerUser(t);
    const bob = await registerUser(t);
    const plain = { [ann.id]: await seedUnderA(ann.id, 1), [bob.id]: await seedUnderA(bob.id, 2) };
    expect(await underKey('a')).toBe(16);

    // Before rotation, the API (A and B listed, B current) reads values under A.
    const before = await request(t.app).get('/api/v1/users/me/export').set(bearer(ann.accessToken));
    expect(before.status).toBe(200);
    expect(JSON.stringify(before.body.sections)).toContain('500001');

    const result = await rotate(['--batch-size', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        're-encrypting under key b',
        'user_profiles.monthly_income_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        'user_profiles.current_savings_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        'user_profiles.current_debt_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        'user_health_checkins.notes_enc: 4 re-encrypted, 0 changed concurrently, 0 failed',
        'financial_questionnaire_submissions.answers_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        'plaid_items.access_token_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        'push_subscriptions.keys_enc: 2 re-encrypted, 0 changed concurrently, 0 failed',
        '',
      ].join('\n'),
    );
    expect(await underKey('a')).toBe(0);
    expect(await underKey('b')).toBe(16);

    // Key A could now be removed: B alone decrypts every value back to what was written.
    for (const user of [ann, bob]) {
      for (const { column, value, rowId } of await valuesOf(user.id)) {
        const table = COLUMNS.find(([, c]) => c === column)?.[0] as string;
        expect(onlyB.decrypt(value, fieldContext(table, column, user.id), rowId)).toBe(
          plain[user.id]?.[column as keyof (typeof plain)[string]],
        );
      }
    }
    const { rows } = await t.db.pool.query(
      'SELECT count(*)::int AS n FROM user_health_checkins WHERE notes_enc IS NULL',
    );
    expect(rows[0].n).toBe(2);
    const after = await request(t.app).get('/api/v1/users/me/export').set(bearer(ann.accessToken));
    expect(after.body.sections.profile).toEqual(before.body.sections.profile);

    const rerun = await rotate();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout.match(/: 0 re-encrypted, 0 changed concurrently, 0 failed/g)).toHaveLength(COLUMNS.length);
  });

  it('when check-in notes are bound to their owner only, even under the current key, rewrites them bound to their row: still read back, no longer readable in another row', async () => {
    const dana = await registerUser(t);
    const context = fieldContext('user_health_checkins', 'notes_enc', dana.id);
    const ids: string[] = [];
    for (const day of [1, 2]) {
      const { rows } = await t.db.pool.query(
        `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
           sleep_hours, physical_activity_minutes, mindfulness_minutes, notes_enc)
         VALUES ($1, current_date - $2::int, 5, 5, 5, 8, 0, 0, $3) RETURNING id`,
        [dana.id, day, onlyB.encrypt(`owner-bound note ${day}`, context)],
      );
      ids.push(rows[0].id);
    }
    const [first, second] = ids as [string, string];

    const result = await rotate();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('user_health_checkins.notes_enc: 2 re-encrypted, 0 changed concurrently, 0 failed');
    const stored = async (id: string) =>
      (await t.db.pool.query('SELECT notes_enc FROM user_health_checkins WHERE id = $1', [id])).rows[0]
        .notes_enc as string;
    const rewritten = await stored(first);
    expect(rewritten.startsWith('v2.b.')).toBe(true);
    expect(onlyB.decrypt(rewritten, context, first)).toBe('owner-bound note 1');
    expect(() => onlyB.decrypt(rewritten, context, second)).toThrow(FieldDecryptionError);

    // Through the API: its own row reads it; copied into the other check-in, it answers 500, not the note.
    const own = await request(t.app).get(`/api/v1/checkins/${first}`).set(bearer(dana.accessToken));
    expect(own.body.notes).toBe('owner-bound note 1');
    await t.db.pool.query('UPDATE user_health_checkins SET notes_enc = $1 WHERE id = $2', [rewritten, second]);
    const moved = await request(t.app).get(`/api/v1/checkins/${second}`).set(bearer(dana.accessToken));
    expect(moved.status).toBe(500);
    expect(moved.text).not.toContain('owner-bound note');
  });

  it('when a value does not decrypt, reports its row (never its content), rotates the rest and exits 1', async () => {
    const carol = await registerUser(t);
    await seedUnderA(carol.id, 3);
    // Under a key no longer configured, and one moved from another user's row (wrong context).
    const stranger = createFieldCipher({ keys: new Map([['z', randomBytes(32)]]), currentKeyId: 'z' });
    await t.db.pool.query('UPDATE plaid_items SET access_token_enc = $1 WHERE user_id = $2', [
      stranger.encrypt('secret-token', fieldContext('plaid_items', 'access_token_enc', carol.id)),
      carol.id,
    ]);
    const { rows } = await t.db.pool.query('SELECT id FROM plaid_items WHERE user_id = $1', [carol.id]);

    const result = await rotate();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`plaid_items.access_token_enc id=${rows[0].id}: does not decrypt (unknown-key)`);
    expect(result.stdout).toContain('plaid_items.access_token_enc: 0 re-encrypted, 0 changed concurrently, 1 failed');
    expect(result.stdout + result.stderr).not.toContain('secret-token');
    expect(await underKey('a')).toBe(0);
    expect(await underKey('z')).toBe(1);
  });

  it('when the batch size is invalid, exits 2 with the usage', async () => {
    const result = await rotate(['--batch-size', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: keys-rotate');
  });
});
