import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { registerUser } from '../../support/auth.js';

const DAY = 86_400_000;
const T0 = new Date('2024-12-01T09:00:00.000Z');

let t: TestApp | undefined;
let clock = T0;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(env: Record<string, string> = {}) {
  clock = T0;
  t = await startTestApp({ env, now: () => clock });
  return t;
}

const refresh = (a: TestApp, refreshToken: string) =>
  request(a.app).post('/api/v1/auth/refresh').send({ refreshToken });

/** Refreshes at each of `days` after T0 (each within the refresh token's own lifetime); answers the last token. */
async function keepRefreshing(a: TestApp, refreshToken: string, days: number[]) {
  let token = refreshToken;
  for (const day of days) {
    clock = new Date(T0.getTime() + day * DAY);
    const res = await refresh(a, token);
    expect(res.status, `refresh on day ${day}`).toBe(200);
    token = res.body.refreshToken;
  }
  return token;
}

describe('absolute session lifetime (SESSION_MAX_DAYS)', () => {
  it('when a session refreshed every few weeks reaches 90 days, the next refresh answers 401 and the session is ended', async () => {
    const a = await app();
    const user = await registerUser(a);
    const token = await keepRefreshing(a, user.refreshToken, [25, 50, 75]);

    clock = new Date(T0.getTime() + 91 * DAY);
    const res = await refresh(a, token);
    expect(res.status).toBe(401);
    expect(res.body.type).toMatch(/invalid-refresh-token$/);

    const rows = await a.db.prisma.refreshToken.findMany({ where: { userId: user.id } });
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
    const ended = await a.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'auth.session_expired' } });
    expect(ended).toHaveLength(1);
    expect(ended[0]?.targetId).toBe(rows[0]?.familyId);
    // Signing in again starts a new session with its own 90 days.
    const again = await request(a.app).post('/api/v1/auth/login').send({ email: user.email, password: user.password });
    expect(again.status).toBe(200);
    expect((await refresh(a, again.body.refreshToken)).status).toBe(200);
  });

  it('when a refresh token is issued near the end of the session, it expires with the session, not 30 days later', async () => {
    const a = await app();
    const user = await registerUser(a);
    await keepRefreshing(a, user.refreshToken, [25, 50, 75]);
    const newest = await a.db.prisma.refreshToken.findFirstOrThrow({
      where: { userId: user.id, replacedById: null },
    });
    expect(newest.expiresAt.toISOString()).toBe(new Date(T0.getTime() + 90 * DAY).toISOString());
  });

  it('when SESSION_MAX_DAYS is set, a session ends after that many days whatever its refreshes', async () => {
    const a = await app({ SESSION_MAX_DAYS: '10' });
    expect(a.config.auth.sessionMaxDays).toBe(10);
    const user = await registerUser(a);
    const token = await keepRefreshing(a, user.refreshToken, [3, 6, 9]);
    clock = new Date(T0.getTime() + 10 * DAY + 1);
    expect((await refresh(a, token)).status).toBe(401);
  });
});
