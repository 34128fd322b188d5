import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { GOOD_PASSWORD, markVerified } from '../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../support/profile.js';
import type { components } from './api.js';
import { baseUrlOf, mobileClient, servedDocument } from './clients.js';
import { createContract, expectNoViolations } from './contract.js';

type Schemas = components['schemas'];

/** The app's clock: noon UTC on the 10th of a month. Every date the journeys send is derived from it. */
const NOW = new Date('2024-03-10T12:00:00Z');
const date = (d: Date) => d.toISOString().slice(0, 10);
const TODAY = date(NOW);
const YESTERDAY = date(new Date(NOW.getTime() - 86_400_000));
/** Day `day` of the month `months` after NOW's; day 0 is the last day of the month before. */
const monthDay = (months: number, day: number) =>
  date(new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth() + months, day)));
const FIRST_OF_MONTH = monthDay(0, 1);
const END_OF_MONTH = monthDay(1, 0);
const END_OF_NEXT_MONTH = monthDay(2, 0);

let t: TestApp;
let document: unknown;
beforeAll(async () => {
  t = await startTestApp({ now: () => NOW });
  document = await servedDocument(t);
});
afterAll(() => t.close());

/** A phone whose every call is checked against the served document, by a contract of this test's own. */
function phone(contract = createContract(document)) {
  return { contract, ...mobileClient(baseUrlOf(t), contract) };
}
type Phone = ReturnType<typeof phone>;

/** Signs up through the API and keeps the access token, as the app does after its sign-up screen. */
async function signUp(p: Phone) {
  const email = `mobile-${randomUUID()}@example.com`;
  const { data, response } = await p.api.POST('/api/v1/auth/register', {
    body: { email, password: GOOD_PASSWORD, name: 'Ann Lee' },
  });
  expect(response.status).toBe(201);
  const session = tokenPairOf(data);
  p.credentials.bearer = session.accessToken;
  return { email, userId: session.user.id, refreshToken: session.refreshToken };
}

/**
 * The answer of a sign-in or refresh without `X-Client: web`. The document describes these answers as either kind
 * of session; a mobile client narrows to the one with the tokens.
 */
function tokenPairOf(body: Schemas['Session'] | Schemas['WebSession'] | undefined): Schemas['Session'] {
  if (!body || !('accessToken' in body)) throw new Error('the answer has no token pair');
  return body;
}

const NO_CREDENTIALS = { breaks: 'request security', what: 'no credentials' } as const;

const checkinOn = (checkinDate: string) => ({
  checkinDate,
  stressLevel: 6,
  moodRating: 7,
  relationshipsRating: 8,
  sleepHours: 7.25,
  physicalActivityMinutes: 30,
  mindfulnessMinutes: 10,
  notes: 'Paid off the card; slept badly anyway',
});

describe('mobile journey (Authorization: Bearer)', () => {
  it('when a mobile client signs up, signs in, refreshes, edits its account and profile and signs out, every call is as documented', async () => {
    const p = phone();
    const { email } = await signUp(p);

    const login = await p.api.POST('/api/v1/auth/login', { body: { email, password: GOOD_PASSWORD } });
    expect(login.response.status).toBe(200);
    const signedIn = tokenPairOf(login.data);
    p.credentials.bearer = signedIn.accessToken;

    const refresh = await p.api.POST('/api/v1/auth/refresh', { body: { refreshToken: signedIn.refreshToken } });
    expect(refresh.response.status).toBe(200);
    const refreshed = tokenPairOf(refresh.data);
    expect(refreshed.refreshToken).not.toBe(signedIn.refreshToken);
    p.credentials.bearer = refreshed.accessToken;

    const me = await p.api.GET('/api/v1/users/me');
    expect(me.data).toMatchObject({ email, name: 'Ann Lee', role: 'user', status: 'active' });
    const renamed = await p.api.PATCH('/api/v1/users/me', { body: { name: 'Ann B. Lee' } });
    expect(renamed.data?.name).toBe('Ann B. Lee');

    const profile: Schemas['PutProfile'] = {
      monthlyIncomeCents: 625_000,
      currentSavingsCents: 1_250_000,
      currentDebtCents: 3_480_000,
      householdSize: 2,
      dependents: 1,
      city: 'Atlanta',
      state: 'GA',
      zipCode: '30303',
      employmentStatus: 'employed_full_time',
      ageRange: '25-34',
      timezone: 'America/New_York',
      reminderHour: 8,
      goals: ['emergency_fund', 'pay_off_debt'],
    };
    const saved = await p.api.PUT('/api/v1/profile', { body: profile });
    expect(saved.response.status).toBe(200);
    const read = await p.api.GET('/api/v1/profile');
    expect(read.data).toMatchObject(profile);

    const out = await p.api.POST('/api/v1/auth/logout', { body: { refreshToken: refreshed.refreshToken } });
    expect(out.response.status).toBe(204);
    const afterLogout = await p.api.POST('/api/v1/auth/refresh', { body: { refreshToken: refreshed.refreshToken } });
    expect(afterLogout.response.status).toBe(401);
    expectNoViolations(p.contract);
  });

  it('when a mobile client records, lists, reads, edits and deletes check-ins, every call is as documented', async () => {
    const p = phone();
    await signUp(p);

    const first = await p.api.POST('/api/v1/checkins', {
      body: checkinOn(YESTERDAY),
      headers: { 'Idempotency-Key': randomUUID() },
    });
    expect(first.response.status).toBe(201);
    const second = await p.api.POST('/api/v1/checkins', {
      body: { ...checkinOn(TODAY), notes: undefined },
      headers: { 'Idempotency-Key': randomUUID() },
    });
    expect(second.response.status).toBe(201);
    const id = first.data?.id ?? '';

    const page1 = await p.api.GET('/api/v1/checkins', {
      params: { query: { limit: 1, from: YESTERDAY, to: TODAY } },
    });
    expect(page1.data?.data.map((c) => c.checkinDate)).toEqual([TODAY]);
    const page2 = await p.api.GET('/api/v1/checkins', {
      params: { query: { limit: 1, cursor: page1.data?.nextCursor ?? undefined } },
    });
    expect(page2.data).toMatchObject({ data: [{ id, checkinDate: YESTERDAY }], nextCursor: null });

    const one = await p.api.GET('/api/v1/checkins/{id}', { params: { path: { id } } });
    expect(one.data?.notes).toBe('Paid off the card; slept badly anyway');
    const edited = await p.api.PATCH('/api/v1/checkins/{id}', {
      params: { path: { id } },
      body: { moodRating: 8, notes: null },
    });
    expect(edited.data).toMatchObject({ moodRating: 8, notes: null });

    const removed = await p.api.DELETE('/api/v1/checkins/{id}', { params: { path: { id } } });
    expect(removed.response.status).toBe(204);
    const gone = await p.api.GET('/api/v1/checkins/{id}', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expectNoViolations(p.contract);
  });

  it('when a mobile client answers a questionnaire and reads its submissions, every call is as documented', async () => {
    const p = phone();
    await signUp(p);

    const slug = 'financial-wellbeing';
    const catalog = await p.api.GET('/api/v1/questionnaires');
    expect(catalog.data?.data.map((q) => q.slug)).toContain(slug);
    const form = await p.api.GET('/api/v1/questionnaires/{slug}', { params: { path: { slug } } });
    const answers = Object.fromEntries(
      (form.data?.questions ?? []).flatMap((q) =>
        q.kind === 'scale' && q.options[0] ? [[q.id, q.options[0].value]] : [],
      ),
    );
    expect(Object.keys(answers).length).toBeGreaterThan(0);

    const submitted = await p.api.POST('/api/v1/questionnaires/{slug}/submissions', {
      params: { path: { slug } },
      body: { answers },
      headers: { 'Idempotency-Key': randomUUID() },
    });
    expect(submitted.response.status).toBe(201);
    expect(submitted.data?.score).toBeGreaterThanOrEqual(0);

    const list = await p.api.GET('/api/v1/questionnaires/submissions', { params: { query: { questionnaire: slug } } });
    expect(list.data?.data.map((s) => s.id)).toEqual([submitted.data?.id]);
    const detail = await p.api.GET('/api/v1/questionnaires/submissions/{id}', {
      params: { path: { id: submitted.data?.id ?? '' } },
    });
    expect(detail.data?.answers).toEqual(answers);
    expectNoViolations(p.contract);
  });

  it('when a mobile client creates, lists, completes and deletes reminders, every call is as documented', async () => {
    const p = phone();
    await signUp(p);

    const created = await p.api.POST('/api/v1/reminders', {
      body: { title: 'Pay rent', dueDate: END_OF_MONTH, recurrence: 'monthly', channel: 'push' },
      headers: { 'Idempotency-Key': randomUUID() },
    });
    expect(created.response.status).toBe(201);
    const id = created.data?.id ?? '';

    const pending = await p.api.GET('/api/v1/reminders', { params: { query: { status: 'pending' } } });
    expect(pending.data?.data.map((r) => r.id)).toEqual([id]);
    const done = await p.api.PATCH('/api/v1/reminders/{id}', {
      params: { path: { id } },
      body: { completedAt: NOW.toISOString() },
    });
    expect(done.data?.completedAt).toBe(NOW.toISOString());
    const all = await p.api.GET('/api/v1/reminders', { params: { query: { status: 'all', from: FIRST_OF_MONTH } } });
    expect(all.data?.data.map((r) => r.dueDate)).toEqual([END_OF_MONTH, END_OF_NEXT_MONTH]);

    const removed = await p.api.DELETE('/api/v1/reminders/{id}', { params: { path: { id } } });
    expect(removed.response.status).toBe(204);
    expectNoViolations(p.contract);
  });

  it('when a mobile client creates an API key, reads with it and revokes it, every call is as documented', async () => {
    const p = phone();
    const { userId } = await signUp(p);
    await markVerified(t, userId); // what the emailed link does; its journey is test/modules/auth/email-verification.test.ts

    const created = await p.api.POST('/api/v1/auth/api-keys', {
      body: { name: 'Budget spreadsheet', password: GOOD_PASSWORD, expiresInDays: 90 },
    });
    expect(created.response.status).toBe(201);
    const keyId = created.data?.apiKey.id ?? '';
    const listed = await p.api.GET('/api/v1/auth/api-keys');
    expect(listed.data?.data.map((k) => k.id)).toEqual([keyId]);

    // A script holding the key, sharing this test's contract.
    const script = phone(p.contract);
    script.credentials.bearer = created.data?.key;
    const me = await script.api.GET('/api/v1/users/me');
    expect(me.response.status).toBe(200);
    const checkins = await script.api.GET('/api/v1/checkins');
    expect(checkins.data?.data).toEqual([]);

    const revoked = await p.api.DELETE('/api/v1/auth/api-keys/{id}', { params: { path: { id: keyId } } });
    expect(revoked.response.status).toBe(204);
    const refused = await script.api.GET('/api/v1/users/me');
    expect(refused.response.status).toBe(401);
    expectNoViolations(p.contract);
  });

  it('when a mobile client downloads its data (GDPR export), the call is as documented', async () => {
    const p = phone();
    const { email } = await signUp(p);
    await p.api.POST('/api/v1/checkins', { body: checkinOn(TODAY) });

    const exported = await p.api.GET('/api/v1/users/me/export');
    expect(exported.response.status).toBe(200);
    expect(exported.response.headers.get('content-disposition')).toBe(
      `attachment; filename=mingus-export-${TODAY}.json`,
    );
    expect(exported.data?.account.email).toBe(email);
    expectNoViolations(p.contract);
  });
});

describe('mobile journey: the mistakes clients make', () => {
  it('when fields are out of range or badly typed, answers 422 problem+json naming each field, as documented', async () => {
    const p = phone();
    await signUp(p);

    const checkin = await p.contract.mistake({ breaks: 'request body', what: 'stressLevel 11 and sleepHours 25' }, () =>
      p.api.POST('/api/v1/checkins', { body: { ...checkinOn(TODAY), stressLevel: 11, sleepHours: 25 } }),
    );
    expect(checkin.response.status).toBe(422);
    expect(checkin.error?.errors?.map((e) => e.path).sort()).toEqual(['body.sleepHours', 'body.stressLevel']);
    const profile = await p.contract.mistake({ breaks: 'request body', what: 'monthlyIncomeCents 12.5' }, () =>
      p.api.PUT('/api/v1/profile', { body: { ...EMPTY_PROFILE_BODY, monthlyIncomeCents: 12.5 } }),
    );
    expect(profile.response.status).toBe(422);
    const signUpAgain = await p.contract.mistake({ breaks: 'request body', what: 'an 11-character password' }, () =>
      p.api.POST('/api/v1/auth/register', {
        body: { email: `short-${randomUUID()}@example.com`, password: 'short-pass1' },
      }),
    );
    expect(signUpAgain.response.status).toBe(422);
    expectNoViolations(p.contract);
  });

  it('when no token is sent, answers 401 problem+json, as documented', async () => {
    const anonymous = phone();

    const me = await anonymous.contract.mistake(NO_CREDENTIALS, () => anonymous.api.GET('/api/v1/users/me'));
    expect(me.response.status).toBe(401);
    expect(me.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const created = await anonymous.contract.mistake(NO_CREDENTIALS, () =>
      anonymous.api.POST('/api/v1/checkins', { body: checkinOn(TODAY) }),
    );
    expect(created.response.status).toBe(401);
    expectNoViolations(anonymous.contract);
  });

  it("when another user's check-in or reminder is asked for, answers 404, as documented", async () => {
    const owner = phone();
    await signUp(owner);
    const checkin = await owner.api.POST('/api/v1/checkins', { body: checkinOn(TODAY) });
    const reminder = await owner.api.POST('/api/v1/reminders', { body: { title: 'Pay rent', dueDate: END_OF_MONTH } });
    const other = phone(owner.contract);
    await signUp(other);

    const read = await other.api.GET('/api/v1/checkins/{id}', { params: { path: { id: checkin.data?.id ?? '' } } });
    expect(read.response.status).toBe(404);
    const edited = await other.api.PATCH('/api/v1/checkins/{id}', {
      params: { path: { id: checkin.data?.id ?? '' } },
      body: { moodRating: 1 },
    });
    expect(edited.response.status).toBe(404);
    const removed = await other.api.DELETE('/api/v1/reminders/{id}', {
      params: { path: { id: reminder.data?.id ?? '' } },
    });
    expect(removed.response.status).toBe(404);
    expectNoViolations(owner.contract);
  });

  it('when a second check-in is sent for the same date, answers 409, as documented', async () => {
    const p = phone();
    await signUp(p);
    expect((await p.api.POST('/api/v1/checkins', { body: checkinOn(TODAY) })).response.status).toBe(201);

    const again = await p.api.POST('/api/v1/checkins', { body: { ...checkinOn(TODAY), moodRating: 2 } });
    expect(again.response.status).toBe(409);
    expect(again.error?.type).toMatch(/checkin-exists$/);
    expectNoViolations(p.contract);
  });
});
