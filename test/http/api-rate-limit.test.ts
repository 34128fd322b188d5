import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const OWNER_IP = '198.51.100.1';
const ATTACKER_IP = '203.0.113.66';

describe('the per-user API limit and revoked sessions', () => {
  it.each([
    ['Redis', 'real'],
    ['no Redis (development)', 'none'],
  ] as const)(
    'when a revoked but unexpired access token is replayed (%s), its owner keeps their whole budget',
    async (_what, redis) => {
      t = await startTestApp({ redis, env: { RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY: 'loopback' } });
      const a = t;
      const owner = await registerUser(a);
      const other = await request(a.app)
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', OWNER_IP)
        .send({ email: owner.email, password: owner.password });
      expect(other.status).toBe(200);
      const out = await request(a.app)
        .post('/api/v1/auth/logout')
        .set('X-Forwarded-For', OWNER_IP)
        .send({ refreshToken: owner.refreshToken });
      expect(out.status).toBe(204);

      // The first session is over; its access token has minutes left. Someone who holds it keeps trying.
      const replays = [];
      for (let i = 0; i < 6; i += 1) {
        replays.push(
          await request(a.app)
            .get('/api/v1/users/me')
            .set('X-Forwarded-For', ATTACKER_IP)
            .set(bearer(owner.accessToken)),
        );
      }
      expect(replays.slice(0, 5).map((r) => [r.status, r.body.type])).toEqual(
        Array(5).fill([401, 'https://docs.mingus.app/problems/invalid-token']),
      );
      // Counted as any caller without a valid credential is: against its own address.
      expect(replays[5]?.status).toBe(429);

      // The owner, signed in elsewhere, still has all five requests of the minute.
      for (let i = 0; i < 5; i += 1) {
        const res = await request(a.app)
          .get('/api/v1/users/me')
          .set('X-Forwarded-For', OWNER_IP)
          .set(bearer(other.body.accessToken));
        expect(res.status, `request ${i + 1}`).toBe(200);
      }
      const sixth = await request(a.app).get('/api/v1/users/me').set(bearer(other.body.accessToken));
      expect(sixth.status).toBe(429);
    },
  );
});
