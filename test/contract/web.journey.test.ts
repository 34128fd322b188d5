import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { GOOD_PASSWORD } from '../support/auth.js';
import { baseUrlOf, csrfTokenOf, servedDocument, WEB, webClient } from './clients.js';
import { createContract, expectNoViolations } from './contract.js';

/** The app's clock. Every date the journey sends is derived from it. */
const NOW = new Date('2024-03-10T12:00:00Z');
const TODAY = NOW.toISOString().slice(0, 10);

const REFRESH_COOKIE = '__Secure-mingus-refresh';
const SESSION_COOKIES = ['__Host-mingus-access', '__Host-mingus-csrf', REFRESH_COOKIE];

let t: TestApp;
let document: unknown;
beforeAll(async () => {
  t = await startTestApp({ now: () => NOW });
  document = await servedDocument(t);
});
afterAll(() => t.close());

/** A browser tab whose every call is checked against the served document, by a contract of this test's own. */
function browser() {
  const contract = createContract(document);
  return { contract, ...webClient(baseUrlOf(t), contract) };
}
type Browser = ReturnType<typeof browser>;

async function signUpAndIn(b: Browser) {
  const email = `web-${randomUUID()}@example.com`;
  const registered = await b.api.POST('/api/v1/auth/register', {
    body: { email, password: GOOD_PASSWORD },
    headers: WEB,
  });
  expect(registered.response.status).toBe(201);
  expect(registered.data).not.toHaveProperty('accessToken');
  expect(b.jar.names()).toEqual(SESSION_COOKIES);

  const signedIn = await b.api.POST('/api/v1/auth/login', { body: { email, password: GOOD_PASSWORD }, headers: WEB });
  expect(signedIn.response.status).toBe(200);
  expect(signedIn.data).not.toHaveProperty('refreshToken');
  b.session.csrfToken = csrfTokenOf(signedIn.data);
  return { email };
}

const checkin = {
  checkinDate: TODAY,
  stressLevel: 4,
  moodRating: 7,
  relationshipsRating: 8,
  sleepHours: 7.5,
  physicalActivityMinutes: 45,
  mindfulnessMinutes: 10,
};

describe('web journey (X-Client: web, cookies and X-CSRF-Token)', () => {
  it('when a web client signs in, checks in, refreshes and signs out, every call is as documented', async () => {
    const b = browser();
    const { email } = await signUpAndIn(b);

    const me = await b.api.GET('/api/v1/users/me');
    expect(me.data?.email).toBe(email);
    const recorded = await b.api.POST('/api/v1/checkins', { body: checkin });
    expect(recorded.response.status).toBe(201);

    const firstToken = b.session.csrfToken;
    const firstRefresh = b.jar.value(REFRESH_COOKIE);
    const refreshed = await b.api.POST('/api/v1/auth/refresh', { headers: WEB });
    expect(refreshed.response.status).toBe(200);
    b.session.csrfToken = csrfTokenOf(refreshed.data);
    expect(b.session.csrfToken).not.toBe(firstToken);
    expect(b.jar.value(REFRESH_COOKIE)).not.toBe(firstRefresh);

    const edited = await b.api.PATCH('/api/v1/checkins/{id}', {
      params: { path: { id: recorded.data?.id ?? '' } },
      body: { moodRating: 8 },
    });
    expect(edited.data?.moodRating).toBe(8);

    const out = await b.api.POST('/api/v1/auth/logout', { headers: WEB });
    expect(out.response.status).toBe(204);
    expect(b.jar.names()).toEqual([]);
    const signedOut = await b.contract.mistake(
      { breaks: 'request security', what: 'no credentials (signed out)' },
      () => b.api.GET('/api/v1/users/me'),
    );
    expect(signedOut.response.status).toBe(401);
    expectNoViolations(b.contract);
  });

  it('when a cookie-authenticated write carries no X-CSRF-Token, answers 403 problem+json, as documented', async () => {
    const b = browser();
    await signUpAndIn(b);
    b.session.csrfToken = undefined;

    const refused = await b.contract.mistake(
      // A document may require the token as a header parameter or as an apiKey scheme beside the cookie's.
      { breaks: ['request security', 'request header'], what: 'no X-CSRF-Token on a cookie session' },
      () => b.api.POST('/api/v1/checkins', { body: checkin }),
    );
    expect(refused.response.status).toBe(403);
    expect(refused.error?.type).toMatch(/csrf-token-invalid$/);
    expectNoViolations(b.contract);
  });
});
