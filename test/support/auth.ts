import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from './app.js';

/** A password the policy accepts (long, not common, not related to the account). */
export const GOOD_PASSWORD = 'purple-Monkey-dishwasher-88';

export interface SignedInUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * Registers an account through the API (as a client would) and returns its tokens. Its address is then marked
 * verified in the database, as the emailed link would (test/modules/auth/email-verification.test.ts follows the
 * link itself), unless `verified: false`.
 */
export async function registerUser(
  t: TestApp,
  overrides: { email?: string; password?: string; name?: string; verified?: boolean } = {},
): Promise<SignedInUser> {
  const email = overrides.email ?? `user-${randomUUID()}@example.com`;
  const password = overrides.password ?? GOOD_PASSWORD;
  const res = await request(t.app)
    .post('/api/v1/auth/register')
    .send({ email, password, ...(overrides.name ? { name: overrides.name } : {}) });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  if (overrides.verified !== false) await markVerified(t, res.body.user.id);
  return {
    id: res.body.user.id,
    email,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
  };
}

/**
 * A subscriber: registered, with an active subscription to `plan` seeded as Stripe's webhook would leave it (the
 * billing tests cover how it gets there).
 */
export async function registerSubscriber(
  t: TestApp,
  plan: 'budget' | 'mid_tier' | 'professional' = 'mid_tier',
): Promise<SignedInUser> {
  const user = await registerUser(t);
  await t.db.prisma.subscription.create({
    data: { userId: user.id, stripeCustomerId: `cus_${user.id}`, plan, status: 'active' },
  });
  return user;
}

export async function login(t: TestApp, email: string, password: string) {
  return request(t.app).post('/api/v1/auth/login').send({ email, password });
}

/** An admin: registered, promoted in the database (as `npm run admin:create` does), then signed in again. */
export async function registerAdmin(t: TestApp): Promise<SignedInUser> {
  const user = await registerUser(t);
  await t.db.prisma.user.update({ where: { id: user.id }, data: { role: 'admin' } });
  const res = await login(t, user.email, user.password);
  return { ...user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** What following the verification link does to the account, for tests about something else. */
export async function markVerified(t: TestApp, userId: string): Promise<void> {
  await t.db.prisma.user.update({ where: { id: userId }, data: { emailVerifiedAt: new Date() } });
}
