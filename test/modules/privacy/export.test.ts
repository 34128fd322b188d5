import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportDocument } from '../../../src/modules/privacy/privacy.schemas.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import { billingEnv, type StripeServer, startStripeServer } from '../../support/stripe-server.js';
import { type SeededUser, seedPersonalData } from './personal-data.seed.js';
import { SECTION_TABLES, userColumns } from './personal-data.tables.js';

const EXPORT = '/api/v1/users/me/export';

let t: TestApp;
let ann: SignedInUser;
let annData: SeededUser;
let bob: SignedInUser;
let bobData: SeededUser;
let stripe: StripeServer;
beforeAll(async () => {
  stripe = await startStripeServer();
  t = await startTestApp({ env: billingEnv(stripe) });
  ann = await registerUser(t, { name: 'Ann Lee' });
  annData = await seedPersonalData(t, ann.id);
  bob = await registerUser(t);
  bobData = await seedPersonalData(t, bob.id);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const exportOf = (user: SignedInUser) => request(t.app).get(EXPORT).set(bearer(user.accessToken));

describe('GET /api/v1/users/me/export', () => {
  it('when signed in, answers one schema-versioned JSON attachment with the account and no password hash', async () => {
    const res = await exportOf(ann);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="?mingus-export-\d{4}-\d{2}-\d{2}\.json"?$/,
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      schemaVersion: 1,
      exportedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      account: {
        id: ann.id,
        email: ann.email,
        name: 'Ann Lee',
        role: 'user',
        status: 'active',
        passwordChangedAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
      sections: expect.any(Object),
    });
    const { rows } = await t.db.pool.query('SELECT password_hash FROM users WHERE id = $1', [ann.id]);
    expect(res.text).not.toContain(rows[0].password_hash);
  });

  it('when exported, every registered section holds the seeded rows of its tables, decrypted', async () => {
    const { body } = await exportOf(ann);
    const sections = body.sections as Record<string, unknown>;
    expect(Object.keys(sections).length).toBeGreaterThanOrEqual(4);
    for (const [name, section] of Object.entries(sections)) {
      // A section this test does not know: add it to SECTION_TABLES with the tables it exports.
      expect(Object.keys(SECTION_TABLES), name).toContain(name);
      const text = JSON.stringify(section);
      for (const table of SECTION_TABLES[name] ?? []) {
        expect(text, `${name} lacks the seeded ${table} row`).toContain(annData.markers[table]);
      }
    }
  });

  it('when exported, the sessions, keys and audit entries hold their rows without hashes or the admin trail', async () => {
    const { body } = await exportOf(ann);
    const { sessions, apiKeys, auditLog } = body.sections;
    expect(sessions).toContainEqual(
      expect.objectContaining({ userAgent: annData.markers.refresh_tokens, ip: '198.51.100.9', revokedAt: null }),
    );
    for (const session of sessions) expect(Object.keys(session)).not.toContain('tokenHash');
    expect(apiKeys).toEqual([expect.objectContaining({ name: annData.markers.api_keys, scopes: ['read'] })]);
    expect(Object.keys(apiKeys[0])).not.toContain('keyHash');
    expect(auditLog.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['auth.register', 'profile.update', 'privacy.export']),
    );
  });

  it('when exported, holds no secret and nothing of another user', async () => {
    const { text } = await exportOf(ann);
    for (const secret of annData.secrets) expect(text).not.toContain(secret);
    for (const marker of Object.values(bobData.markers)) expect(text).not.toContain(marker);
    expect(text).not.toContain(bob.id);
    expect(text).not.toContain(bob.email);
  });

  it('when exported, records a privacy.export audit entry with the address and request id, and lists it', async () => {
    const res = await exportOf(bob);
    const { rows } = await t.db.pool.query(
      `SELECT ip, request_id FROM audit_log WHERE user_id = $1 AND action = 'privacy.export'`,
      [bob.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].request_id).toBe(res.headers['x-request-id']);
    expect(rows[0].ip).toMatch(/127\.0\.0\.1/);
    expect(res.body.sections.auditLog).toContainEqual(
      expect.objectContaining({ action: 'privacy.export', requestId: res.headers['x-request-id'] }),
    );
  });

  it('when an administrator changed the account, says so without their id or address', async () => {
    const carol = await registerUser(t);
    await t.db.pool.query(
      `INSERT INTO audit_log (user_id, actor_id, action, target_type, target_id, fields, ip)
       VALUES ($1, $2, 'admin.user_update', 'user', $3, '{status}', '192.0.2.44')`,
      [carol.id, bob.id, carol.id],
    );
    const { body, text } = await exportOf(carol);
    expect(body.sections.auditLog).toContainEqual(
      expect.objectContaining({ action: 'admin.user_update', byAdministrator: true, ip: null, fields: ['status'] }),
    );
    expect(text).not.toContain(bob.id);
    expect(text).not.toContain('192.0.2.44');
  });

  it('when a stored value does not decrypt, answers a logged 500 and no document', async () => {
    const dave = await registerUser(t);
    await seedPersonalData(t, dave.id);
    // Ann's ciphertext copied into Dave's row: valid under the key, but bound to Ann.
    await t.db.pool.query(
      `UPDATE user_profiles SET monthly_income_enc = (SELECT monthly_income_enc FROM user_profiles WHERE user_id = $1)
       WHERE user_id = $2`,
      [ann.id, dave.id],
    );
    const res = await exportOf(dave);
    expect(res.status).toBe(500);
    expect(res.type).toBe('application/problem+json');
    expect(res.text).not.toContain(annData.markers.user_profiles);
    expect(t.rawLogs()).toContain('FieldDecryptionError');
    const { rows } = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1 AND action = 'privacy.export'`,
      [dave.id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('when called with an API key, answers 403 api-key-not-allowed: exports need a session', async () => {
    const created = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(ann.accessToken))
      .send({ name: 'script', password: ann.password });
    const res = await request(t.app).get(EXPORT).set(bearer(created.body.key));
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/api-key-not-allowed$/);
  });

  it('when not signed in, or with a forged token, answers 401', async () => {
    expect((await request(t.app).get(EXPORT)).status).toBe(401);
    expect(
      (
        await request(t.app)
          .get(EXPORT)
          .set(bearer(`${ann.accessToken}x`))
      ).status,
    ).toBe(401);
  });
});

describe('personal-data sections', () => {
  it('when the app is wired, the export has a section for every personal-data module', async () => {
    const { body } = await exportOf(ann);
    expect(Object.keys(body.sections).sort()).toEqual(Object.keys(SECTION_TABLES).sort());
  });

  it('when exported with a row in every table, is exactly what the documented PersonalDataExport schema describes', async () => {
    const { body } = await exportOf(ann);
    const parsed = ExportDocument.safeParse(body);
    expect(parsed.error?.issues).toBeUndefined();
    // The schema drops keys it does not know: equal means every key the export holds is documented.
    expect(parsed.data).toEqual(body);
  });

  it("when the document's example is read, it fits the schema it illustrates", () => {
    expect(ExportDocument.safeParse(ExportDocument.meta()?.example).error?.issues).toBeUndefined();
  });

  it('when a table names a user, some section exports it (a new table without one fails here)', async () => {
    const covered = new Set(Object.values(SECTION_TABLES).flat());
    const tables = [...new Set((await userColumns(t)).map((c) => c.table))];
    expect(tables.length).toBeGreaterThanOrEqual(13);
    expect(tables.filter((table) => !covered.has(table))).toEqual([]);
  });
});
