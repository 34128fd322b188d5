import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser } from '../../support/auth.js';

const EMAIL_HASH_KEY = randomBytes(32).toString('base64url');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { EMAIL_HASH_KEY } });
});
afterAll(() => t.close());

const email = () => `hashed-${randomUUID()}@example.com`;
const hmacOf = (address: string) => createHmac('sha256', EMAIL_HASH_KEY).update(address).digest();
const wrongLogin = (address: string) =>
  request(t.app).post('/api/v1/auth/login').send({ email: address, password: 'not-the-right-password-1' });

/** Every way the service could have written a plain SHA-256 of the address (a dictionary of emails reverses it). */
function plainDigests(address: string): string[] {
  const digest = createHash('sha256').update(address).digest();
  return [digest.toString('hex').slice(0, 16), digest.toString('base64url').slice(0, 16)];
}

describe('emails are kept only as an HMAC under EMAIL_HASH_KEY', () => {
  it('when a login fails for an email without an account, its audit entry and Redis keys hold the HMAC, never a plain SHA-256', async () => {
    const address = email();
    expect((await wrongLogin(address)).status).toBe(401);

    const entry = await t.db.prisma.auditLog.findFirstOrThrow({
      where: { action: 'auth.login_failed', userId: null, targetId: hmacOf(address).toString('hex').slice(0, 32) },
    });
    expect(entry.targetType).toBe('email-hmac');

    const keys = (await t.redis?.keys(`${t.config.redis.keyPrefix}*`)) ?? [];
    const stored = [...keys, ...(await t.db.prisma.auditLog.findMany()).map((r) => `${r.targetId}`)].join('\n');
    for (const digest of plainDigests(address)) expect(stored).not.toContain(digest);
    const hmac = hmacOf(address);
    expect(keys.some((k) => k.includes(hmac.toString('hex').slice(0, 32)))).toBe(true);
  });

  it('when an account is erased, the failed sign-ins recorded for its email before it had an account go too', async () => {
    const address = email();
    const bystander = email();
    await wrongLogin(address);
    await wrongLogin(bystander);
    const targetOf = (a: string) => hmacOf(a).toString('hex').slice(0, 32);
    expect(await t.db.prisma.auditLog.count({ where: { targetId: targetOf(address) } })).toBe(1);

    const user = await registerUser(t, { email: address });
    const erased = await request(t.app)
      .delete('/api/v1/users/me')
      .set(bearer(user.accessToken))
      .send({ password: user.password });
    expect(erased.status).toBe(204);
    expect(await t.db.prisma.auditLog.count({ where: { targetId: targetOf(address) } })).toBe(0);
    expect(await t.db.prisma.auditLog.count({ where: { targetId: targetOf(bystander) } })).toBe(1);
  });
});

describe('entries written before EMAIL_HASH_KEY', () => {
  it('when the migration runs over an entry holding a plain SHA-256 of an email, the digest goes and the entry stays', async () => {
    const digest = createHash('sha256').update(email()).digest('hex').slice(0, 32);
    const legacy = await t.db.prisma.auditLog.create({
      data: { action: 'auth.login_failed', targetType: 'email-sha256', targetId: digest, ip: '198.51.100.7' },
    });
    const session = await t.db.prisma.auditLog.create({
      data: { action: 'auth.logout', targetType: 'session', targetId: randomUUID() },
    });
    const sql = readFileSync(
      path.join(ROOT, 'prisma/migrations/20261210120000_email_digests_redacted/migration.sql'),
      'utf8',
    );
    await t.db.prisma.$executeRawUnsafe(sql);
    expect(await t.db.prisma.auditLog.findUniqueOrThrow({ where: { id: legacy.id } })).toMatchObject({
      action: 'auth.login_failed',
      targetType: 'email-sha256',
      targetId: null,
      ip: '198.51.100.7',
    });
    expect((await t.db.prisma.auditLog.findUniqueOrThrow({ where: { id: session.id } })).targetId).toBe(
      session.targetId,
    );
  });
});
