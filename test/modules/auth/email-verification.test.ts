import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import { startTestJobs } from '../../support/jobs.js';
import { startSmtpServer } from '../../support/smtp-server.js';

/** The app's and the worker's clock: tokens expire relative to it. */
let clock = new Date('2024-06-01T09:00:00.000Z');
const now = () => clock;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.runIf(inject('redisUrl'))('email verification', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let jobs: Awaited<ReturnType<typeof startTestJobs>>;

  beforeAll(async () => {
    t = await startTestApp({ now, env: { APP_URL: 'https://app.mingus.test' } });
    smtp = await startSmtpServer();
    jobs = await startTestJobs(t, { smtpUrl: smtp.url, now });
  });
  afterAll(async () => {
    await jobs?.close();
    await smtp?.close();
    await t?.close();
  });

  const verify = (token: unknown) => request(t.app).post('/api/v1/auth/email/verify').send({ token });
  const me = (user: SignedInUser) => request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken));
  const verificationMails = (email: string) =>
    smtp.received.filter(
      (m: ParsedMail) =>
        m.to && 'text' in m.to && m.to.text === email && m.subject === 'Confirm your email address for Mingus',
    );

  async function mailedToken(email: string, count = 1): Promise<string> {
    await expect.poll(() => verificationMails(email).length, { timeout: 10_000 }).toBe(count);
    const mail = verificationMails(email)[count - 1] as ParsedMail;
    const match = /https:\/\/app\.mingus\.test\/verify-email#token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    if (!match?.[1]) throw new Error(`no verification link in: ${mail.text}`);
    return match[1];
  }

  it('when the owner follows the link mailed at registration, emailVerified turns true and the token is spent', async () => {
    const user = await registerUser(t, { verified: false });
    expect((await me(user)).body.emailVerified).toBe(false);
    const token = await mailedToken(user.email);
    const row = await t.db.prisma.accountToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    expect(row).toMatchObject({ userId: user.id, purpose: 'email_verification', usedAt: null });
    expect(row.expiresAt.getTime() - clock.getTime()).toBe(24 * 3_600_000);

    expect((await verify(token)).status).toBe(204);
    expect((await me(user)).body.emailVerified).toBe(true);
    const account = await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(account.emailVerifiedAt).toEqual(clock);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.email_verify' } })).toBe(1);

    const replay = await verify(token);
    expect(replay.status).toBe(422);
    expect(replay.body.type).toMatch(/\/invalid-account-token$/);
  });

  it('when the token is over 24 hours old, answers 422 invalid-account-token and the address stays unverified', async () => {
    const user = await registerUser(t, { verified: false });
    const token = await mailedToken(user.email);
    const issued = clock;
    clock = new Date(issued.getTime() + 24 * 3_600_000 + 1);
    try {
      const res = await verify(token);
      expect(res.status).toBe(422);
      expect(res.body.type).toMatch(/\/invalid-account-token$/);
    } finally {
      clock = issued;
    }
    expect((await me(user)).body.emailVerified).toBe(false);
  });

  it('when a password-reset token is presented to verify, answers 422 and verifies nothing', async () => {
    const user = await registerUser(t, { verified: false });
    const resetToken = 'R'.repeat(43);
    await t.db.prisma.accountToken.create({
      data: {
        userId: user.id,
        purpose: 'password_reset',
        tokenHash: sha256(resetToken),
        expiresAt: new Date(clock.getTime() + 3_600_000),
      },
    });
    expect((await verify(resetToken)).status).toBe(422);
    expect((await verify('malformed')).status).toBe(422);
    expect((await me(user)).body.emailVerified).toBe(false);
  });

  it('when unverified, creating an API key is 403 email-unverified and creates nothing; once verified it is 201', async () => {
    const user = await registerUser(t, { verified: false });
    const key = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'script', password: user.password });
    expect(key.status).toBe(403);
    expect(key.body.type).toMatch(/\/email-unverified$/);
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);

    const verified = await registerUser(t);
    const allowed = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(verified.accessToken))
      .send({ name: 'script', password: verified.password });
    expect(allowed.status).toBe(201);
  });

  it('when the owner asks again, a new link is mailed (at most 3 an hour), and none once verified', async () => {
    const user = await registerUser(t, { verified: false });
    await mailedToken(user.email, 1);
    const resend = () => request(t.app).post('/api/v1/auth/email/verify/resend').set(bearer(user.accessToken)).send();
    expect((await resend()).status).toBe(202);
    const second = await mailedToken(user.email, 2);
    expect((await resend()).status).toBe(202);
    expect((await resend()).status).toBe(202);
    const limited = await resend();
    expect(limited.status).toBe(429);
    await mailedToken(user.email, 4);

    expect((await verify(second)).status).toBe(204);
    expect((await me(user)).body.emailVerified).toBe(true);
    const anonymous = await request(t.app).post('/api/v1/auth/email/verify/resend').send();
    expect(anonymous.status).toBe(401);
  });
});
