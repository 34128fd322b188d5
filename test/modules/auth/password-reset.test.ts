import { createHash, randomUUID } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMaintenance } from '../../../src/modules/maintenance/maintenance.service.js';
import { createEmailHash } from '../../../src/platform/email-hash.js';
import { retentionPurges } from '../../../src/retention.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, GOOD_PASSWORD, login, registerUser, type SignedInUser } from '../../support/auth.js';
import { startTestJobs } from '../../support/jobs.js';
import { startSmtpServer } from '../../support/smtp-server.js';

/** The app's and the worker's clock: tokens expire relative to it, never to today's date. */
let clock = new Date('2024-06-01T09:00:00.000Z');
const now = () => clock;
const NEW_PASSWORD = 'violet-Kettle-harmonica-42';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.runIf(inject('redisUrl'))('password reset', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let jobs: Awaited<ReturnType<typeof startTestJobs>>;

  beforeAll(async () => {
    t = await startTestApp({ now, env: { APP_URL: 'https://app.mingus.test/' } });
    smtp = await startSmtpServer();
    jobs = await startTestJobs(t, { smtpUrl: smtp.url, now });
  });
  afterAll(async () => {
    await jobs?.close();
    await smtp?.close();
    await t?.close();
  });

  const forgot = (email: unknown) => request(t.app).post('/api/v1/auth/password/forgot').send({ email });
  const reset = (token: unknown, password: unknown = NEW_PASSWORD) =>
    request(t.app).post('/api/v1/auth/password/reset').send({ token, password });
  const mailsTo = (email: string) =>
    smtp.received.filter((m: ParsedMail) => m.to && 'text' in m.to && m.to.text === email);
  const resetMailsTo = (email: string) => mailsTo(email).filter((m) => m.subject === 'Reset your Mingus password');

  /** Asks for a link and reads the token from the email the worker sent (the link's fragment). */
  async function mailedToken(email: string, askAs = email): Promise<{ token: string; mail: ParsedMail }> {
    const before = resetMailsTo(email).length;
    expect((await forgot(askAs)).status).toBe(202);
    await expect.poll(() => resetMailsTo(email).length, { timeout: 10_000 }).toBe(before + 1);
    const mail = resetMailsTo(email)[before] as ParsedMail;
    const match = /https:\/\/app\.mingus\.test\/reset-password#token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    if (!match?.[1]) throw new Error(`no reset link in: ${mail.text}`);
    return { token: match[1], mail };
  }

  async function createKey(user: SignedInUser): Promise<string> {
    const res = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'script', password: user.password });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  const storedHash = async (userId: string) =>
    (await t.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).passwordHash;

  it('when the owner follows the mailed link, the password changes, every session and API key dies, and the new password signs in', async () => {
    const user = await registerUser(t);
    const otherDevice = await login(t, user.email, user.password);
    const key = await createKey(user);

    const { token, mail } = await mailedToken(user.email, ` ${user.email.toUpperCase()}`);
    expect(mail.html).toContain(`href="https://app.mingus.test/reset-password#token=${token}"`);
    const tokenRow = await t.db.prisma.accountToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    expect(tokenRow).toMatchObject({ userId: user.id, purpose: 'password_reset', usedAt: null });
    expect(tokenRow.expiresAt.getTime() - clock.getTime()).toBe(60 * 60_000);

    const res = await reset(token);
    expect(res.status).toBe(204);

    for (const access of [user.accessToken, otherDevice.body.accessToken, key]) {
      expect((await request(t.app).get('/api/v1/users/me').set(bearer(access))).status).toBe(401);
    }
    const refreshed = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(401);
    expect((await login(t, user.email, user.password)).status).toBe(401);
    expect((await login(t, user.email, NEW_PASSWORD)).status).toBe(200);

    const used = await t.db.prisma.accountToken.findUniqueOrThrow({ where: { id: tokenRow.id } });
    expect(used.usedAt).toEqual(clock);
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);
    expect(await t.db.prisma.refreshToken.count({ where: { userId: user.id, revokedAt: null } })).toBe(1); // the new login
    const audit = await t.db.prisma.auditLog.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset']),
    );
    expect(audit.find((a) => a.action === 'auth.password_reset')?.fields).toEqual(['password']);

    await expect
      .poll(() => mailsTo(user.email).filter((m) => m.subject === 'Your Mingus password was reset').length, {
        timeout: 10_000,
      })
      .toBe(1);
  });

  it('when a used token is presented again, answers 422 invalid-account-token and changes nothing', async () => {
    const user = await registerUser(t);
    const { token } = await mailedToken(user.email);
    expect((await reset(token)).status).toBe(204);
    const hash = await storedHash(user.id);

    const replay = await reset(token, 'another-Quiet-lantern-77');
    expect(replay.status).toBe(422);
    expect(replay.type).toBe('application/problem+json');
    expect(replay.body.type).toMatch(/\/invalid-account-token$/);
    expect(await storedHash(user.id)).toBe(hash);
    expect((await login(t, user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it('when the token is over an hour old, answers 422 invalid-account-token and the old password still works', async () => {
    const user = await registerUser(t);
    const { token } = await mailedToken(user.email);
    const hash = await storedHash(user.id);
    const issued = clock;
    clock = new Date(issued.getTime() + 60 * 60_000 + 1);
    try {
      const res = await reset(token);
      expect(res.status).toBe(422);
      expect(res.body.type).toMatch(/\/invalid-account-token$/);
      expect(await storedHash(user.id)).toBe(hash);
      expect((await login(t, user.email, user.password)).status).toBe(200);
    } finally {
      clock = issued;
    }
  });

  it('when the token is unknown or was made for another purpose, answers the same 422 invalid-account-token', async () => {
    const user = await registerUser(t);
    const verification = randomUUID().replaceAll('-', '').padEnd(43, 'x').slice(0, 43);
    await t.db.prisma.accountToken.create({
      data: {
        userId: user.id,
        purpose: 'email_verification',
        tokenHash: sha256(verification),
        expiresAt: new Date(clock.getTime() + 3_600_000),
      },
    });
    const hash = await storedHash(user.id);
    const unknown = await reset('A'.repeat(43));
    const wrongPurpose = await reset(verification);
    for (const res of [unknown, wrongPurpose]) {
      expect(res.status).toBe(422);
      expect(res.body.type).toMatch(/\/invalid-account-token$/);
      expect(res.body.detail).toBe(unknown.body.detail);
    }
    expect(await storedHash(user.id)).toBe(hash);
  });

  it('when the new password breaks the policy, answers 422 weak-password and the link still works afterwards', async () => {
    const user = await registerUser(t);
    const { token } = await mailedToken(user.email);
    const weak = await reset(token, 'qwertyuiopasdfgh');
    expect(weak.status).toBe(422);
    expect(weak.body.type).toMatch(/\/weak-password$/);
    const sameAsEmail = await reset(token, user.email);
    expect(sameAsEmail.status).toBe(422);
    expect((await login(t, user.email, user.password)).status).toBe(200);

    expect((await reset(token)).status).toBe(204);
  });

  it('when the body is malformed (token not 43 base64url characters, extra field, no password), answers 422 validation-failed', async () => {
    for (const body of [
      { token: 'short', password: NEW_PASSWORD },
      { token: `${'A'.repeat(42)}=`, password: NEW_PASSWORD },
      { token: 'A'.repeat(43), password: NEW_PASSWORD, userId: randomUUID() },
      { token: 'A'.repeat(43) },
    ]) {
      const res = await request(t.app).post('/api/v1/auth/password/reset').send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.type).toMatch(/\/validation-failed$/);
    }
    const noEmail = await request(t.app).post('/api/v1/auth/password/forgot').send({ email: 'not-an-email' });
    expect(noEmail.status).toBe(422);
  });

  it('when two resets race with one token, exactly one succeeds', async () => {
    const user = await registerUser(t);
    const { token } = await mailedToken(user.email);
    const results = await Promise.all([reset(token, NEW_PASSWORD), reset(token, 'another-Quiet-lantern-77')]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 422]);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.password_reset' } })).toBe(1);
  });

  it('when a second link was mailed, using either one retires the other', async () => {
    const user = await registerUser(t);
    const first = await mailedToken(user.email);
    const second = await mailedToken(user.email);
    expect((await reset(second.token)).status).toBe(204);
    expect((await reset(first.token, 'another-Quiet-lantern-77')).status).toBe(422);
  });

  it('when the email has no account, answers the same 202, audits its HMAC and enqueues nothing', async () => {
    const email = `nobody-${randomUUID()}@example.com`;
    const known = await registerUser(t);
    const queue = jobs.queues.queue('account');
    const jobsSoFar = async () => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
      return Object.values(c).reduce((a, b) => a + b, 0);
    };
    const before = await jobsSoFar();
    const unknownRes = await forgot(email);
    expect(await jobsSoFar()).toBe(before);
    const knownRes = await forgot(known.email);
    expect(await jobsSoFar()).toBe(before + 1);

    for (const res of [unknownRes, knownRes]) {
      expect(res.status).toBe(202);
      expect(res.text).toBe('');
    }
    expect(unknownRes.headers['content-type']).toBe(knownRes.headers['content-type']);
    const entry = await t.db.prisma.auditLog.findFirst({
      where: { action: 'auth.password_reset_requested', targetId: createEmailHash(emailHashKey(t))(email) },
    });
    expect(entry).toMatchObject({ userId: null, targetType: 'email-hmac' });
    expect(JSON.stringify(await t.db.prisma.auditLog.findMany({ where: { targetType: 'email-hmac' } }))).not.toContain(
      email,
    );
  });

  it('when answering known and unknown emails, takes the same time (median of 8 each, within 15 %)', async () => {
    const known = await Promise.all(Array.from({ length: 8 }, () => registerUser(t)));
    const timeOf = async (email: string) => {
      const started = performance.now();
      expect((await forgot(email)).status).toBe(202);
      return performance.now() - started;
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (const user of known) {
      knownTimes.push(await timeOf(user.email));
      unknownTimes.push(await timeOf(`nobody-${randomUUID()}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const ratio = median(knownTimes) / median(unknownTimes);
    expect(ratio).toBeGreaterThan(0.87);
    expect(ratio).toBeLessThan(1.15);
  });

  it('when one email is asked for more than 5 times an hour, in any case, the next is 429 whether or not it has an account', async () => {
    const user = await registerUser(t);
    const nobody = `nobody-${randomUUID()}@example.com`;
    for (const email of [user.email, nobody]) {
      const spellings = [email, email.toUpperCase(), ` ${email}`, email, email];
      for (const spelling of spellings) expect((await forgot(spelling)).status).toBe(202);
      const limited = await forgot(email);
      expect(limited.status).toBe(429);
      expect(limited.body.type).toMatch(/\/rate-limited$/);
    }
    await expect.poll(() => resetMailsTo(user.email).length, { timeout: 10_000 }).toBe(5);
  });

  it('when the maintenance runs, expired tokens are deleted and live ones kept', async () => {
    const user = await registerUser(t);
    const make = (expiresAt: Date, usedAt: Date | null) =>
      t.db.prisma.accountToken.create({
        data: { userId: user.id, purpose: 'password_reset', tokenHash: sha256(randomUUID()), expiresAt, usedAt },
      });
    const realNow = Date.now();
    const expired = await make(new Date(realNow - 60_000), null);
    const expiredUsed = await make(new Date(realNow - 60_000), new Date(realNow - 120_000));
    const live = await make(new Date(realNow + 3_600_000), null);
    const maintenance = createMaintenance({
      db: t.db,
      purges: retentionPurges({ auditLogDays: 90 }),
      now: () => new Date(),
    });
    const results = await maintenance.run({ batchSize: 1 });
    expect(results.find((r) => r.table === 'account_tokens')?.purged).toBeGreaterThanOrEqual(2);
    const left = await t.db.prisma.accountToken.findMany({ where: { userId: user.id } });
    expect(left.map((r) => r.id)).toEqual([live.id]);
    expect(left.map((r) => r.id)).not.toContain(expired.id);
    expect(left.map((r) => r.id)).not.toContain(expiredUsed.id);
  });
});

describe.runIf(inject('redisUrl'))('password reset limits per client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t?.close());

  it('when one client asks more than the per-minute limit for different emails, the next is 429', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(t.app)
        .post('/api/v1/auth/password/forgot')
        .send({ email: `someone-${randomUUID()}@example.com` });
      expect(res.status).toBe(202);
    }
    const res = await request(t.app)
      .post('/api/v1/auth/password/forgot')
      .send({ email: `someone-${randomUUID()}@example.com` });
    expect(res.status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const reset = await request(t.app)
        .post('/api/v1/auth/password/reset')
        .send({ token: 'A'.repeat(43), password: GOOD_PASSWORD });
      expect(reset.status).toBe(422);
    }
    const limited = await request(t.app)
      .post('/api/v1/auth/password/reset')
      .send({ token: 'A'.repeat(43), password: GOOD_PASSWORD });
    expect(limited.status).toBe(429);
  });
});

function emailHashKey(t: TestApp): string {
  return t.config.auth.emailHashKey;
}
