import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfilesPrivacySection } from '../../../src/modules/profiles/profiles.privacy.js';
import { createFieldCipher } from '../../../src/platform/crypto.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../../support/profile.js';

const PATH = '/api/v1/profile';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const FULL = {
  monthlyIncomeCents: 625_000,
  currentSavingsCents: 1_250_000,
  currentDebtCents: 3_480_000,
  householdSize: 3,
  dependents: 1,
  city: 'Atlanta',
  state: 'GA',
  zipCode: '30303-1234',
  employmentStatus: 'employed_full_time',
  ageRange: '25-34',
  timezone: 'America/New_York',
  reminderHour: 7,
  goals: ['emergency_fund', 'pay_off_debt'],
};

const put = (user: SignedInUser, body: unknown) =>
  request(t.app)
    .put(PATH)
    .set(bearer(user.accessToken))
    .send(body as object);
const get = (user: SignedInUser) => request(t.app).get(PATH).set(bearer(user.accessToken));
const rawProfile = async (userId: string) =>
  (await t.db.pool.query('SELECT * FROM user_profiles WHERE user_id = $1', [userId])).rows[0];
const profileAudits = (userId: string) =>
  t.db.prisma.auditLog.findMany({ where: { userId, action: 'profile.update' }, orderBy: { createdAt: 'asc' } });

describe('GET /api/v1/profile', () => {
  it('when the profile was never saved, answers 200 with the empty profile', async () => {
    const user = await registerUser(t);
    const res = await get(user);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...EMPTY_PROFILE_BODY, updatedAt: null });
    expect(await rawProfile(user.id)).toBeUndefined();
  });

  it('when not signed in, answers 401', async () => {
    const res = await request(t.app).get(PATH);
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
  });

  it('when called with a personal API key, answers 200 for GET and 403 for PUT', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    const created = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'sheet', password: user.password });
    const key = created.body.key as string;
    const read = await request(t.app).get(PATH).set(bearer(key));
    expect(read.status).toBe(200);
    expect(read.body.monthlyIncomeCents).toBe(625_000);
    const write = await request(t.app).put(PATH).set(bearer(key)).send(FULL);
    expect(write.status).toBe(403);
  });
});

describe('PUT /api/v1/profile', () => {
  it('when every field is valid, answers 200 with the profile and GET returns the same', async () => {
    const user = await registerUser(t);
    const res = await put(user, FULL);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...FULL, updatedAt: expect.any(String) });
    const again = await get(user);
    expect(again.body).toEqual(res.body);
  });

  it('when the money fields are at their largest allowed values, stores them exactly', async () => {
    const user = await registerUser(t);
    const body = { ...FULL, monthlyIncomeCents: 100_000_000, currentSavingsCents: 10_000_000_000, currentDebtCents: 0 };
    await put(user, body).expect(200);
    expect((await get(user)).body).toMatchObject(body);
  });

  it('when saved, the money columns hold ciphertext, not the amounts', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    const row = await rawProfile(user.id);
    for (const column of ['monthly_income_enc', 'current_savings_enc', 'current_debt_enc']) {
      expect(row[column]).toMatch(/^v1\./);
    }
    const text = JSON.stringify(row);
    for (const amount of ['625000', '1250000', '3480000']) expect(text).not.toContain(amount);
    expect(row.city).toBe('Atlanta');
  });

  it('when the body is empty, answers 422 listing every field and stores nothing', async () => {
    const user = await registerUser(t);
    const res = await put(user, {});
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths.sort()).toEqual(
      Object.keys(FULL)
        .map((field) => `body.${field}`)
        .sort(),
    );
    expect(await rawProfile(user.id)).toBeUndefined();
  });

  it('when a field is left out, answers 422 naming it and keeps the saved profile', async () => {
    const user = await registerUser(t);
    const saved = (await put(user, FULL).expect(200)).body;
    const res = await put(user, { city: 'Houston' });
    expect(res.status).toBe(422);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain('body.monthlyIncomeCents');
    expect(paths).toContain('body.timezone');
    expect(paths).not.toContain('body.city');
    expect((await get(user)).body).toEqual(saved);
    expect((await profileAudits(user.id)).length).toBe(1);
  });

  it('when fields are null (and goals empty), they are cleared: PUT replaces the whole profile', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    const res = await put(user, { ...EMPTY_PROFILE_BODY, city: 'Houston' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...EMPTY_PROFILE_BODY, city: 'Houston', updatedAt: expect.any(String) });
    const row = await rawProfile(user.id);
    expect(row.monthly_income_enc).toBeNull();
    expect(row.timezone).toBe('UTC');
  });

  it('when the time zone is given in another case, stores its canonical IANA name', async () => {
    const user = await registerUser(t);
    const res = await put(user, { ...FULL, timezone: 'asia/tokyo' });
    expect(res.status).toBe(200);
    expect(res.body.timezone).toBe('Asia/Tokyo');
  });

  it.each([
    ['a string of cents', { monthlyIncomeCents: '625000' }, 'body.monthlyIncomeCents'],
    ['a fraction of a cent', { monthlyIncomeCents: 1000.5 }, 'body.monthlyIncomeCents'],
    ['income above the maximum', { monthlyIncomeCents: 100_000_001 }, 'body.monthlyIncomeCents'],
    ['negative savings', { currentSavingsCents: -1 }, 'body.currentSavingsCents'],
    ['debt above the maximum', { currentDebtCents: 10_000_000_001 }, 'body.currentDebtCents'],
    ['money as a boolean', { currentDebtCents: true }, 'body.currentDebtCents'],
    ['a household of 0', { householdSize: 0 }, 'body.householdSize'],
    ['a household of 21', { householdSize: 21 }, 'body.householdSize'],
    ['21 dependents', { dependents: 21 }, 'body.dependents'],
    ['fractional dependents', { dependents: 1.5 }, 'body.dependents'],
    ['a lower-case state', { state: 'ga' }, 'body.state'],
    ['an unknown state', { state: 'XX' }, 'body.state'],
    ['a four-digit ZIP', { zipCode: '3030' }, 'body.zipCode'],
    ['a ZIP+3', { zipCode: '30303-123' }, 'body.zipCode'],
    ['a ZIP as a number', { zipCode: 30303 }, 'body.zipCode'],
    ['an unknown employment status', { employmentStatus: 'astronaut' }, 'body.employmentStatus'],
    ['an unknown age range', { ageRange: '30-40' }, 'body.ageRange'],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'body.timezone'],
    ['an offset instead of a zone', { timezone: '+05:00' }, 'body.timezone'],
    ['a null time zone', { timezone: null }, 'body.timezone'],
    ['a reminder hour past 23', { reminderHour: 24 }, 'body.reminderHour'],
    ['a negative reminder hour', { reminderHour: -1 }, 'body.reminderHour'],
    ['a fractional reminder hour', { reminderHour: 8.5 }, 'body.reminderHour'],
    ['no reminder hour', { reminderHour: undefined }, 'body.reminderHour'],
    ['an unknown goal', { goals: ['world_peace'] }, 'body.goals[0]'],
    ['a repeated goal', { goals: ['invest', 'invest'] }, 'body.goals'],
    ['an empty city', { city: '   ' }, 'body.city'],
    ['an unknown field', { ssn: '123-45-6789' }, 'body'],
  ])('when the body has %s, answers 422 naming the field and stores nothing', async (_name, fields, path) => {
    const user = await registerUser(t);
    const res = await put(user, { ...FULL, ...fields });
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
    expect(await rawProfile(user.id)).toBeUndefined();
  });

  it('when a money field is an integer beyond 2^53, answers 422 naming it', async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .put(PATH)
      .set(bearer(user.accessToken))
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify({ ...FULL, currentDebtCents: 0 }).replace(
          '"currentDebtCents":0',
          '"currentDebtCents":9007199254740993',
        ),
      );
    expect(res.status).toBe(422);
    expect(new Set(res.body.errors.map((e: { path: string }) => e.path))).toEqual(new Set(['body.currentDebtCents']));
    expect(await rawProfile(user.id)).toBeUndefined();
  });

  it('when saved twice, audits the names of the fields that changed, never their values', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    await put(user, {
      ...FULL,
      monthlyIncomeCents: 700_000,
      city: 'Houston',
      goals: ['pay_off_debt', 'emergency_fund'],
    });
    await put(user, { ...FULL, monthlyIncomeCents: 700_000, city: 'Houston' }).expect(200);
    const rows = await profileAudits(user.id);
    expect(rows.map((r) => r.fields)).toEqual([Object.keys(FULL), ['monthlyIncomeCents', 'city']]);
    expect(rows[0]).toMatchObject({ targetType: 'user_profile', targetId: user.id });
    const text = JSON.stringify(rows);
    for (const value of ['625000', '700000', 'Houston', 'Atlanta', '30303']) expect(text).not.toContain(value);
  });

  it('when a money column was tampered with, answers a generic 500 and logs the decryption failure', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    const { monthly_income_enc: envelope } = await rawProfile(user.id);
    const other = await registerUser(t);
    await put(other, FULL).expect(200);
    // A ciphertext from another user's row: genuine, but bound to another place.
    await t.db.pool.query('UPDATE user_profiles SET monthly_income_enc = $1 WHERE user_id = $2', [envelope, other.id]);
    const res = await get(other);
    expect(res.status).toBe(500);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('about:blank');
    expect(res.text).not.toMatch(/decrypt|t1|v1\./i);
    const logged = t.logs().find((l) => l.reqId === res.body.requestId && l.msg === 'request failed');
    expect(JSON.stringify(logged?.err)).toContain('FieldDecryptionError');

    // The owner still reads their own value: nothing else was disturbed.
    expect((await get(user)).body.monthlyIncomeCents).toBe(625_000);
  });

  it('when the ciphertext is altered by one character, answers 500 rather than a wrong amount', async () => {
    const user = await registerUser(t);
    await put(user, FULL).expect(200);
    const { current_debt_enc: envelope } = await rawProfile(user.id);
    const last = envelope.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${envelope.slice(0, -2)}${last}${envelope.at(-1)}`;
    await t.db.pool.query('UPDATE user_profiles SET current_debt_enc = $1 WHERE user_id = $2', [tampered, user.id]);
    const res = await get(user);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('3480000');
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).put(PATH).send(FULL)).status).toBe(401);
  });
});

describe('the profile personal-data section', () => {
  it("when exported, holds the decrypted profile; when erased, only that user's row is gone", async () => {
    const [user, other] = [await registerUser(t), await registerUser(t)];
    await put(user, FULL).expect(200);
    await put(other, FULL).expect(200);
    const section = createProfilesPrivacySection({ cipher: createFieldCipher(t.config.fieldEncryption) });
    expect(section.name).toBe('profile');
    expect(await section.export(t.db, user.id)).toEqual({ ...FULL, updatedAt: expect.any(String) });

    await t.db.transaction((tx) => section.erase(tx, user.id));
    expect(await rawProfile(user.id)).toBeUndefined();
    expect(await rawProfile(other.id)).toBeDefined();
    expect(await section.export(t.db, user.id)).toBeNull();
  });
});
