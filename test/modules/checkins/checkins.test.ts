import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCheckinsPrivacySection } from '../../../src/modules/checkins/checkins.privacy.js';
import { createFieldCipher } from '../../../src/platform/crypto.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../../support/profile.js';

const PATH = '/api/v1/checkins';
/** Noon UTC on 10 March 2026: already 11 March in Kiritimati (UTC+14), still 10 March in Los Angeles. */
const NOON_UTC = new Date('2026-03-10T12:00:00Z');

let clock = NOON_UTC;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: () => clock });
});
beforeEach(() => {
  clock = NOON_UTC;
});
afterAll(() => t.close());

const checkin = (checkinDate: string, overrides: Record<string, unknown> = {}) => ({
  checkinDate,
  stressLevel: 6,
  moodRating: 7,
  relationshipsRating: 8,
  sleepHours: 7.25,
  physicalActivityMinutes: 30,
  mindfulnessMinutes: 10,
  notes: 'Paid off the card; slept badly anyway',
  ...overrides,
});

const post = (user: SignedInUser, body: unknown) =>
  request(t.app)
    .post(PATH)
    .set(bearer(user.accessToken))
    .send(body as object);

async function create(user: SignedInUser, body: unknown) {
  const res = await post(user, body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string } & Record<string, unknown>;
}

async function inZone(timezone: string) {
  const user = await registerUser(t);
  await request(t.app)
    .put('/api/v1/profile')
    .set(bearer(user.accessToken))
    .send({ ...EMPTY_PROFILE_BODY, timezone })
    .expect(200);
  return user;
}

const rows = (userId: string) => t.db.prisma.userHealthCheckin.count({ where: { userId } });
const paths = (res: request.Response) => res.body.errors?.map((e: { path: string }) => e.path);

describe('POST /api/v1/checkins', () => {
  it('when valid, answers 201 with the check-in and a Location, and stores it', async () => {
    const user = await registerUser(t);
    const res = await post(user, checkin('2026-03-10'));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      ...checkin('2026-03-10'),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.headers.location).toBe(`${PATH}/${res.body.id}`);
    const row = await t.db.prisma.userHealthCheckin.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.userId).toBe(user.id);
    expect(row.sleepHours.toString()).toBe('7.25');
  });

  it('when notes are left out, stores none', async () => {
    const user = await registerUser(t);
    const { notes: _, ...body } = checkin('2026-03-09');
    const created = await create(user, body);
    expect(created.notes).toBeNull();
  });

  it('when saved, the notes column holds ciphertext, not the text', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-10', { notes: 'my rent went up by $300' }));
    const { rows: found } = await t.db.pool.query('SELECT notes_enc FROM user_health_checkins WHERE id = $1', [id]);
    expect(found[0].notes_enc).toMatch(/^v2\./);
    expect(found[0].notes_enc).not.toContain('rent');
  });

  it.each([
    ['a stress level of 0', { stressLevel: 0 }, 'body.stressLevel'],
    ['a mood of 11', { moodRating: 11 }, 'body.moodRating'],
    ['a fractional rating', { relationshipsRating: 7.5 }, 'body.relationshipsRating'],
    ['a rating as a string', { moodRating: '7' }, 'body.moodRating'],
    ['negative sleep', { sleepHours: -1 }, 'body.sleepHours'],
    ['25 hours of sleep', { sleepHours: 25 }, 'body.sleepHours'],
    ['sleep with 3 decimals', { sleepHours: 7.333 }, 'body.sleepHours'],
    ['1441 activity minutes', { physicalActivityMinutes: 1441 }, 'body.physicalActivityMinutes'],
    ['negative mindfulness', { mindfulnessMinutes: -5 }, 'body.mindfulnessMinutes'],
    ['notes over 2,000 characters', { notes: 'x'.repeat(2001) }, 'body.notes'],
    ['a date that does not exist', { checkinDate: '2026-02-29' }, 'body.checkinDate'],
    ['a date with a time', { checkinDate: '2026-03-01T10:00:00Z' }, 'body.checkinDate'],
    ['a date in year 0', { checkinDate: '0000-01-01' }, 'body.checkinDate'],
    ['an unknown field', { userId: randomUUID() }, 'body'],
  ])('when the body has %s, answers 422 naming the field and stores nothing', async (_name, overrides, path) => {
    const user = await registerUser(t);
    const res = await post(user, checkin('2026-03-01', overrides));
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(paths(res)).toContain(path);
    expect(await rows(user.id)).toBe(0);
  });

  it('when a required field is missing, answers 422 naming it', async () => {
    const user = await registerUser(t);
    const { stressLevel: _, ...body } = checkin('2026-03-01');
    const res = await post(user, body);
    expect(res.status).toBe(422);
    expect(paths(res)).toEqual(['body.stressLevel']);
  });

  it('when notes are exactly 2,000 characters, accepts them', async () => {
    const user = await registerUser(t);
    const created = await create(user, checkin('2026-03-01', { notes: 'é'.repeat(2000) }));
    expect(created.notes).toHaveLength(2000);
  });

  it('when the date is tomorrow in UTC and the user has no time zone, answers 422 naming checkinDate', async () => {
    const user = await registerUser(t);
    const res = await post(user, checkin('2026-03-11'));
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/\/checkin-date-in-future$/);
    expect(paths(res)).toEqual(['body.checkinDate']);
    expect(await rows(user.id)).toBe(0);
  });

  it("when it is already tomorrow in the user's time zone (Kiritimati) but not in UTC, accepts that date", async () => {
    const user = await inZone('Pacific/Kiritimati');
    expect((await post(user, checkin('2026-03-11'))).status).toBe(201);
    const dayAfter = await post(user, checkin('2026-03-12'));
    expect(dayAfter.status).toBe(422);
    expect(paths(dayAfter)).toEqual(['body.checkinDate']);
  });

  it("when it is already today in UTC but still yesterday in the user's time zone (Los Angeles), refuses today", async () => {
    clock = new Date('2026-03-10T03:00:00Z'); // 20:00 on 9 March in Los Angeles (PDT)
    const angeleno = await inZone('America/Los_Angeles');
    const res = await post(angeleno, checkin('2026-03-10'));
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/\/checkin-date-in-future$/);
    expect((await post(angeleno, checkin('2026-03-09'))).status).toBe(201);

    const utc = await registerUser(t);
    expect((await post(utc, checkin('2026-03-10'))).status).toBe(201);
  });

  it('when the user already has a check-in on that date, answers 409 and keeps the first', async () => {
    const user = await registerUser(t);
    const first = await create(user, checkin('2026-03-05'));
    const res = await post(user, checkin('2026-03-05', { stressLevel: 1 }));
    expect(res.status).toBe(409);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/\/checkin-exists$/);
    const stored = await t.db.prisma.userHealthCheckin.findMany({ where: { userId: user.id } });
    expect(stored.map((r) => [r.id, r.stressLevel])).toEqual([[first.id, 6]]);
  });

  it('when another user has a check-in on that date, it does not conflict', async () => {
    const [a, b] = [await registerUser(t), await registerUser(t)];
    await create(a, checkin('2026-03-05'));
    expect((await post(b, checkin('2026-03-05'))).status).toBe(201);
  });

  it('when two requests for one date race, one answers 201 and the other 409', async () => {
    const user = await registerUser(t);
    for (let round = 0; round < 3; round++) {
      const date = `2026-02-0${round + 1}`;
      const results = await Promise.all([post(user, checkin(date)), post(user, checkin(date, { moodRating: 2 }))]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    }
    expect(await rows(user.id)).toBe(3);
  });

  it('when retried with the same Idempotency-Key, replays the first answer and stores one row', async () => {
    const user = await registerUser(t);
    const key = randomUUID();
    const send = () =>
      request(t.app).post(PATH).set(bearer(user.accessToken)).set('Idempotency-Key', key).send(checkin('2026-03-03'));
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await rows(user.id)).toBe(1);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).post(PATH).send(checkin('2026-03-01'))).status).toBe(401);
  });
});

describe('GET /api/v1/checkins/:id', () => {
  it('when the check-in is yours, answers 200 with notes decrypted', async () => {
    const user = await registerUser(t);
    const created = await create(user, checkin('2026-03-02'));
    const res = await request(t.app).get(`${PATH}/${created.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
  });

  it("when the check-in is another user's, answers 404 as if it did not exist", async () => {
    const [owner, other] = [await registerUser(t), await registerUser(t)];
    const { id } = await create(owner, checkin('2026-03-02'));
    const theirs = await request(t.app).get(`${PATH}/${id}`).set(bearer(other.accessToken));
    const unknown = await request(t.app).get(`${PATH}/${randomUUID()}`).set(bearer(other.accessToken));
    expect(theirs.status).toBe(404);
    expect(theirs.body.detail).toBe(unknown.body.detail);
  });

  it.each(['not-a-uuid', '123', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000g'])(
    'when the id is malformed (%s), answers 400, never 500',
    async (id) => {
      const user = await registerUser(t);
      const res = await request(t.app)
        .get(`${PATH}/${encodeURIComponent(id)}`)
        .set(bearer(user.accessToken));
      expect(res.status).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-parameter$/);
    },
  );

  it('when the notes were tampered with, answers a generic 500 and logs the decryption failure', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02', { notes: 'secret note' }));
    const { rows: found } = await t.db.pool.query('SELECT notes_enc FROM user_health_checkins WHERE id = $1', [id]);
    const envelope: string = found[0].notes_enc;
    const flipped = `${envelope.slice(0, -3)}${envelope.at(-3) === 'A' ? 'B' : 'A'}${envelope.slice(-2)}`;
    await t.db.pool.query('UPDATE user_health_checkins SET notes_enc = $1 WHERE id = $2', [flipped, id]);

    const res = await request(t.app).get(`${PATH}/${id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(500);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('about:blank');
    expect(res.text).not.toMatch(/decrypt|secret note|v[12]\./i);
    const logged = t.logs().find((l) => l.reqId === res.body.requestId && l.msg === 'request failed');
    expect(JSON.stringify(logged?.err)).toContain('FieldDecryptionError');

    const list = await request(t.app).get(PATH).set(bearer(user.accessToken));
    expect(list.status).toBe(500);
  });
});

describe('PATCH /api/v1/checkins/:id', () => {
  it('when some fields change, answers 200 with the whole check-in and changes only those', async () => {
    const user = await registerUser(t);
    const created = await create(user, checkin('2026-03-02'));
    const res = await request(t.app)
      .patch(`${PATH}/${created.id}`)
      .set(bearer(user.accessToken))
      .send({ stressLevel: 3, sleepHours: 8.5, notes: 'better' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...created,
      stressLevel: 3,
      sleepHours: 8.5,
      notes: 'better',
      updatedAt: expect.any(String),
    });
    const cleared = await request(t.app)
      .patch(`${PATH}/${created.id}`)
      .set(bearer(user.accessToken))
      .send({ notes: null });
    expect(cleared.body.notes).toBeNull();
  });

  it('when changed, every read shows the same instants, in ISO 8601 UTC with milliseconds', async () => {
    const user = await registerUser(t);
    const created = await create(user, checkin('2026-03-04'));
    const patched = await request(t.app)
      .patch(`${PATH}/${created.id}`)
      .set(bearer(user.accessToken))
      .send({ moodRating: 2 })
      .expect(200);
    const one = await request(t.app).get(`${PATH}/${created.id}`).set(bearer(user.accessToken)).expect(200);
    const list = await request(t.app).get(PATH).set(bearer(user.accessToken)).expect(200);
    const stored = await t.db.prisma.userHealthCheckin.findUniqueOrThrow({ where: { id: created.id } });
    const instants = { createdAt: stored.createdAt.toISOString(), updatedAt: stored.updatedAt.toISOString() };
    expect(instants.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(created.createdAt).toBe(instants.createdAt);
    for (const shown of [patched.body, one.body, list.body.data[0]]) expect(shown).toMatchObject(instants);
  });

  it('when the new date is taken by another of your check-ins, answers 409 and changes nothing', async () => {
    const user = await registerUser(t);
    await create(user, checkin('2026-03-02'));
    const second = await create(user, checkin('2026-03-03'));
    const res = await request(t.app)
      .patch(`${PATH}/${second.id}`)
      .set(bearer(user.accessToken))
      .send({ checkinDate: '2026-03-02', moodRating: 1 });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/checkin-exists$/);
    const row = await t.db.prisma.userHealthCheckin.findUniqueOrThrow({ where: { id: second.id } });
    expect([row.checkinDate.toISOString().slice(0, 10), row.moodRating]).toEqual(['2026-03-03', 7]);
  });

  it('when the new date is after today in your time zone, answers 422 naming checkinDate', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02'));
    const res = await request(t.app)
      .patch(`${PATH}/${id}`)
      .set(bearer(user.accessToken))
      .send({ checkinDate: '2026-03-11' });
    expect(res.status).toBe(422);
    expect(paths(res)).toEqual(['body.checkinDate']);
  });

  it.each([
    ['an empty body', {}, 'body'],
    ['a rating out of range', { moodRating: 0 }, 'body.moodRating'],
    ['sleep with 3 decimals', { sleepHours: 1.001 }, 'body.sleepHours'],
    ['a null rating', { stressLevel: null }, 'body.stressLevel'],
    ['an unknown field', { id: randomUUID() }, 'body'],
  ])('when the body has %s, answers 422', async (_name, body, path) => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02'));
    const res = await request(t.app).patch(`${PATH}/${id}`).set(bearer(user.accessToken)).send(body);
    expect(res.status).toBe(422);
    expect(paths(res)).toContain(path);
  });

  it("when the check-in is another user's, answers 404 and changes nothing", async () => {
    const [owner, other] = [await registerUser(t), await registerUser(t)];
    const { id } = await create(owner, checkin('2026-03-02'));
    const res = await request(t.app).patch(`${PATH}/${id}`).set(bearer(other.accessToken)).send({ moodRating: 1 });
    expect(res.status).toBe(404);
    expect((await t.db.prisma.userHealthCheckin.findUniqueOrThrow({ where: { id } })).moodRating).toBe(7);
  });

  it('when the id is malformed, answers 400', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).patch(`${PATH}/nope`).set(bearer(user.accessToken)).send({ moodRating: 1 });
    expect(res.status).toBe(400);
  });
});

describe('DELETE /api/v1/checkins/:id', () => {
  it('when the check-in is yours, answers 204 and it is gone; again, 404', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02'));
    expect((await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken))).status).toBe(204);
    expect(await rows(user.id)).toBe(0);
    expect((await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken))).status).toBe(404);
    // The date is free again.
    expect((await post(user, checkin('2026-03-02'))).status).toBe(201);
  });

  it("when the check-in is another user's, answers 404 and keeps it", async () => {
    const [owner, other] = [await registerUser(t), await registerUser(t)];
    const { id } = await create(owner, checkin('2026-03-02'));
    expect((await request(t.app).delete(`${PATH}/${id}`).set(bearer(other.accessToken))).status).toBe(404);
    expect(await rows(owner.id)).toBe(1);
  });

  it('when the id is malformed, answers 400', async () => {
    const user = await registerUser(t);
    expect((await request(t.app).delete(`${PATH}/42`).set(bearer(user.accessToken))).status).toBe(400);
  });

  it('when called with a personal API key, answers 403 (keys are read-only) and keeps the check-in', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02'));
    const { body } = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'sheet', password: user.password });
    expect((await request(t.app).get(`${PATH}/${id}`).set(bearer(body.key))).status).toBe(200);
    expect((await request(t.app).delete(`${PATH}/${id}`).set(bearer(body.key))).status).toBe(403);
    expect(await rows(user.id)).toBe(1);
  });
});

describe('audit of check-ins', () => {
  it('when created, changed and deleted, records each with field names and never a value', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02', { notes: 'therapy on Tuesday' }));
    await request(t.app)
      .patch(`${PATH}/${id}`)
      .set(bearer(user.accessToken))
      .send({ stressLevel: 9, moodRating: 7, notes: 'therapy moved to Friday' })
      .expect(200);
    await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken)).expect(204);

    const audits = await t.db.prisma.auditLog.findMany({
      where: { userId: user.id, action: { startsWith: 'checkin.' } },
      orderBy: { createdAt: 'asc' },
    });
    expect(audits.map((a) => [a.action, a.targetType, a.targetId, a.fields])).toEqual([
      ['checkin.create', 'checkin', id, []],
      // moodRating was sent unchanged: not a change.
      ['checkin.update', 'checkin', id, ['stressLevel', 'notes']],
      ['checkin.delete', 'checkin', id, []],
    ]);
    const text = JSON.stringify(audits);
    expect(text).not.toMatch(/therapy|Tuesday|Friday/);
  });

  it('when a PATCH changes nothing, writes no audit row', async () => {
    const user = await registerUser(t);
    const { id } = await create(user, checkin('2026-03-02'));
    await request(t.app).patch(`${PATH}/${id}`).set(bearer(user.accessToken)).send({ moodRating: 7 }).expect(200);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'checkin.update' } })).toBe(0);
  });
});

describe('the check-ins personal-data section', () => {
  it("when exported, lists every check-in oldest first with notes decrypted; when erased, only that user's", async () => {
    const [user, other] = [await registerUser(t), await registerUser(t)];
    const later = await create(user, checkin('2026-03-05', { notes: 'later' }));
    const earlier = await create(user, checkin('2026-03-01', { notes: null }));
    await create(other, checkin('2026-03-01'));
    const section = createCheckinsPrivacySection({ cipher: createFieldCipher(t.config.fieldEncryption) });
    expect(section.name).toBe('checkins');
    expect(await section.export(t.db, user.id)).toEqual([earlier, later]);

    await t.db.transaction((tx) => section.erase(tx, user.id));
    expect(await rows(user.id)).toBe(0);
    expect(await rows(other.id)).toBe(1);
    expect(await section.export(t.db, user.id)).toEqual([]);
  });
});
