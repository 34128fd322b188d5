import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UnavailableError } from '../../../src/http/errors.js';
import { createCursors } from '../../../src/http/pagination.js';
import { createAdminJobsService, UNEXPECTED_FAILURE_MESSAGE } from '../../../src/modules/admin/admin.jobs.service.js';
import { createAuditLog } from '../../../src/modules/audit/audit.port.js';
import { createJobQueues, failureCode } from '../../../src/platform/jobs.js';
import { startTestApp, type TestApp, UNREACHABLE_REDIS } from '../../support/app.js';
import { bearer, registerAdmin, registerUser, type SignedInUser } from '../../support/auth.js';
import { startTestJobs } from '../../support/jobs.js';
import { startSmtpServer } from '../../support/smtp-server.js';

/** The app's and the jobs' clock; each test sets it. Dates below derive from it, never from today's date. */
let clock = new Date('2024-05-01T10:00:00.000Z');
const now = () => clock;

interface FailedJobItem {
  id: string;
  queue: string;
  name: string;
  attempts: number;
  errorCode: string;
  errorMessage: string;
  failedAt: string;
}

describe.runIf(inject('redisUrl'))('failed jobs, listed and retried by admins', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let jobs: Awaited<ReturnType<typeof startTestJobs>>;
  let admin: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ now });
    smtp = await startSmtpServer();
    jobs = await startTestJobs(t, { smtpUrl: smtp.url, now });
    admin = await registerAdmin(t);
  });
  afterAll(async () => {
    await jobs?.close();
    await smtp?.close();
    await t?.close();
  });

  const queue = () => jobs.queues.queue('reminders');
  const listFailed = (query: Record<string, string | number> = {}) =>
    request(t.app).get('/api/v1/admin/jobs/failed').query(query).set(bearer(admin.accessToken));
  const retry = (id: string, as: SignedInUser = admin) =>
    request(t.app)
      .post(`/api/v1/admin/jobs/${encodeURIComponent(id)}/retry`)
      .set(bearer(as.accessToken));
  const mailsTo = (email: string) => smtp.received.filter((m) => m.to && 'text' in m.to && m.to.text === email);
  const lastDelivery = async (user: SignedInUser, reminderId: string) =>
    (await request(t.app).get(`/api/v1/reminders/${reminderId}`).set(bearer(user.accessToken))).body.lastDelivery;
  const retryAudits = (jobId: string) =>
    t.db.prisma.auditLog.findMany({ where: { action: 'admin.job_retry', targetId: jobId } });

  async function reminder(user: SignedInUser, dueDate: string) {
    const res = await request(t.app)
      .post('/api/v1/reminders')
      .set(bearer(user.accessToken))
      .send({ title: 'Pay the water bill', dueDate, channel: 'email' });
    if (res.status !== 201) throw new Error(`reminder: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string };
  }

  /** A job the worker refuses at once (its payload breaks the job's schema: `invalid-payload`), once it failed. */
  async function failedJob(): Promise<string> {
    const id = `reminders.deliver.test-${randomUUID()}`;
    await queue().add('reminders.deliver', { broken: true }, { jobId: id, attempts: 1 });
    await expect.poll(() => queue().getJobState(id), { timeout: 10_000 }).toBe('failed');
    return id;
  }

  /** Every page from `cursor` on, `limit` at a time. */
  async function walk(limit: number, cursor: string | null = null): Promise<FailedJobItem[]> {
    const seen: FailedJobItem[] = [];
    do {
      const page = await listFailed({ limit, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    return seen;
  }

  it('when the SMTP server refuses a reminder, lists its job with the declared code and no personal data; a retry once it accepts sends the email once, records it sent, and is audited', async () => {
    clock = new Date('2024-05-01T10:00:00.000Z'); // 09:00 UTC has passed: due for a user without a profile
    const user = await registerUser(t);
    const due = await reminder(user, '2024-05-01');
    const id = `reminders.deliver.${due.id}.2024-05-01`;
    smtp.refuse(550);
    try {
      await jobs.dispatch();
      await expect.poll(() => queue().getJobState(id), { timeout: 10_000 }).toBe('failed');
    } finally {
      smtp.accept();
    }
    const failedAt = new Date((await queue().getJob(id))?.finishedOn ?? 0).toISOString();
    expect(await lastDelivery(user, due.id)).toMatchObject({ status: 'failed', lastErrorCode: 'smtp-refused' });

    const listed = await listFailed({ queue: 'reminders', limit: 100 });
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((job: FailedJobItem) => job.id === id)).toEqual({
      id,
      queue: 'reminders',
      name: 'reminders.deliver',
      attempts: 1,
      errorCode: 'smtp-refused',
      errorMessage: 'the SMTP server refused the message (550)',
      failedAt,
    });
    expect(listed.text).not.toContain(user.email);
    expect(listed.text).not.toContain('@');

    const retried = await retry(id);
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual({ id, state: 'waiting' });

    await expect.poll(() => mailsTo(user.email).length, { timeout: 10_000 }).toBe(1);
    await expect
      .poll(() => lastDelivery(user, due.id), { timeout: 5_000 })
      .toMatchObject({ status: 'sent', attempts: 2, lastErrorCode: null });
    await expect.poll(() => queue().getJobState(id), { timeout: 5_000 }).toBe('completed');
    const after = await listFailed({ queue: 'reminders', limit: 100 });
    expect(after.body.data.map((job: FailedJobItem) => job.id)).not.toContain(id);

    const audit = await request(t.app)
      .get('/api/v1/admin/audit-log')
      .query({ action: 'admin.job_retry' })
      .set(bearer(admin.accessToken));
    expect(audit.body.data).toContainEqual({
      id: expect.any(String),
      action: 'admin.job_retry',
      userId: null,
      actorId: admin.id,
      targetType: 'job',
      targetId: id,
      fields: [],
      ip: expect.any(String),
      requestId: retried.headers['x-request-id'],
      createdAt: expect.any(String),
    });

    // Never a second message: the completed job cannot be retried, and the next dispatches enqueue nothing.
    const again = await retry(id);
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/\/job-not-failed$/);
    await jobs.dispatch();
    await jobs.dispatch();
    const pending = async () =>
      (await queue().getJobs(['waiting', 'active', 'delayed'])).filter((j) => j.name !== 'reminders.dispatch').length;
    await expect.poll(pending, { timeout: 5_000 }).toBe(0);
    expect(mailsTo(user.email)).toHaveLength(1);
    expect(await retryAudits(id)).toHaveLength(1);
  });

  it('when a job failed with an error it did not declare, shows a fixed message rather than the raw one, and a retry still delivers', async () => {
    clock = new Date('2024-06-01T10:00:00.000Z');
    const user = await registerUser(t);
    // Due later than the clock, so no dispatch enqueues it: the job below, with one attempt, is its only one.
    const due = await reminder(user, '2024-06-20');
    const id = `reminders.deliver.${due.id}.2024-06-20`;
    await smtp.stop();
    try {
      await queue().add(
        'reminders.deliver',
        { reminderId: due.id, occurrence: '2024-06-20' },
        { jobId: id, attempts: 1 },
      );
      await expect.poll(() => queue().getJobState(id), { timeout: 10_000 }).toBe('failed');
    } finally {
      await smtp.start();
    }
    const raw = (await queue().getJob(id))?.failedReason ?? '';
    expect(failureCode(raw)).toBe('error');
    expect(await lastDelivery(user, due.id)).toMatchObject({ status: 'failed', lastErrorCode: 'smtp-unavailable' });

    const listed = await listFailed({ queue: 'reminders', limit: 100 });
    expect(listed.body.data.find((job: FailedJobItem) => job.id === id)).toMatchObject({
      attempts: 1,
      errorCode: 'error',
      errorMessage: UNEXPECTED_FAILURE_MESSAGE,
    });
    expect(listed.text).not.toContain(raw);

    expect((await retry(id)).status).toBe(202);
    await expect.poll(() => mailsTo(user.email).length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => lastDelivery(user, due.id), { timeout: 5_000 }).toMatchObject({ status: 'sent' });
  });

  it('when paging, returns every failed job once, most recent failure first, even as jobs fail and are retried between pages', async () => {
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push(await failedJob());
    const newestFirst = [...made].reverse();
    const snapshot = (await listFailed({ limit: 100 })).body.data.map((job: FailedJobItem) => job.id);
    expect(snapshot.slice(0, 6)).toEqual(newestFirst);

    const first = await listFailed({ limit: 2 });
    expect(first.body.data.map((job: FailedJobItem) => job.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.data[0]).toMatchObject({
      errorCode: 'invalid-payload',
      errorMessage: expect.stringMatching(/^payload refused by the job's schema/),
    });

    // A new failure pushes every job one place down: an offset would show the second page's first job twice.
    const newer = await failedJob();
    const second = await listFailed({ limit: 2, cursor: first.body.nextCursor });
    expect(second.body.data.map((job: FailedJobItem) => job.id)).toEqual(newestFirst.slice(2, 4));

    // The first page's jobs retried (their payload mended first), completed, gone from the list: an offset would now
    // skip two jobs.
    for (const id of newestFirst.slice(0, 2)) {
      await (await queue().getJob(id))?.updateData({ reminderId: randomUUID(), occurrence: '2024-01-01' });
      expect((await retry(id)).status).toBe(202);
      await expect.poll(() => queue().getJobState(id), { timeout: 10_000 }).toBe('completed');
    }
    const third = await listFailed({ limit: 2, cursor: second.body.nextCursor });
    expect(third.body.data.map((job: FailedJobItem) => job.id)).toEqual(newestFirst.slice(4, 6));

    const rest = third.body.nextCursor ? await walk(2, third.body.nextCursor) : [];
    const walked = [...first.body.data, ...second.body.data, ...third.body.data, ...rest];
    expect(walked.map((job) => job.id)).toEqual(snapshot);
    const times = walked.map((job) => Date.parse(job.failedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const fromTheTop = await walk(3);
    expect(fromTheTop.map((job) => job.id)).toEqual([
      newer,
      ...snapshot.filter((id: string) => !newestFirst.slice(0, 2).includes(id)),
    ]);
  });

  it('when the cursor was not issued by this list, answers 400 invalid-cursor', async () => {
    await failedJob();
    await failedJob();
    const page = await listFailed({ limit: 1 });
    const [body, signature] = String(page.body.nextCursor).split('.');
    const position = JSON.parse(Buffer.from(String(body), 'base64url').toString()) as [string, string];
    const forged = `${Buffer.from(JSON.stringify([position[0], 'reminders.deliver.other'])).toString('base64url')}.${signature}`;
    const audit = await request(t.app)
      .get('/api/v1/admin/audit-log')
      .query({ limit: 1 })
      .set(bearer(admin.accessToken));
    for (const cursor of [forged, String(audit.body.nextCursor), 'garbage']) {
      const res = await listFailed({ cursor });
      expect(res.status).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-cursor$/);
    }
  });

  it('when the queue is not one the service runs, answers 422 naming query.queue', async () => {
    const res = await listFailed({ queue: 'everything' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'query.queue' })]);
  });

  it('when the caller is not an admin, answers 403 to the list and to a retry, and retries nothing', async () => {
    const id = await failedJob();
    const user = await registerUser(t);
    const list = await request(t.app).get('/api/v1/admin/jobs/failed').set(bearer(user.accessToken));
    expect(list.status).toBe(403);
    expect(list.body.type).toMatch(/\/forbidden$/);
    const res = await retry(id, user);
    expect(res.status).toBe(403);
    expect(await queue().getJobState(id)).toBe('failed');
    expect(await retryAudits(id)).toHaveLength(0);
  });

  it('when no job has the id, answers 404', async () => {
    const res = await retry(`reminders.deliver.${randomUUID()}.2024-05-01`);
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/\/not-found$/);
  });

  it('when the job completed, answers 409 job-not-failed and audits nothing', async () => {
    const id = `reminders.deliver.${randomUUID()}.2024-05-02`;
    // A delivery of a reminder that does not exist: the job finds nothing to send and completes.
    await queue().add('reminders.deliver', { reminderId: randomUUID(), occurrence: '2024-05-02' }, { jobId: id });
    await expect.poll(() => queue().getJobState(id), { timeout: 10_000 }).toBe('completed');
    const res = await retry(id);
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/job-not-failed$/);
    expect(await queue().getJobState(id)).toBe('completed');
    expect(await retryAudits(id)).toHaveLength(0);
  });

  it('when the id is malformed or too long, answers 400 invalid-parameter (as every malformed path parameter)', async () => {
    for (const id of ['reminders deliver!', `reminders.deliver.${'x'.repeat(200)}`, '.hidden']) {
      const res = await retry(id);
      expect(res.status, id).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-parameter$/);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
    }
  });

  it('when an admin signed in by cookie retries without X-CSRF-Token, answers 403 and the job stays failed', async () => {
    const id = await failedJob();
    const web = await request(t.app)
      .post('/api/v1/auth/login')
      .set('X-Client', 'web')
      .send({ email: admin.email, password: admin.password });
    expect(web.status).toBe(200);
    const res = await request(t.app)
      .post(`/api/v1/admin/jobs/${id}/retry`)
      .set('Cookie', web.headers['set-cookie'] as unknown as string[]);
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/csrf-token-invalid$/);
    expect(await queue().getJobState(id)).toBe('failed');
  });
});

describe('failed jobs without Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: 'none' });
  });
  afterAll(() => t?.close());

  it('when the server has no REDIS_URL, answers 503 jobs-unavailable, after validating the request', async () => {
    const admin = await registerAdmin(t);
    const list = await request(t.app).get('/api/v1/admin/jobs/failed').set(bearer(admin.accessToken));
    expect(list.status).toBe(503);
    expect(list.body.type).toMatch(/\/jobs-unavailable$/);
    const retried = await request(t.app)
      .post('/api/v1/admin/jobs/reminders.deliver.x/retry')
      .set(bearer(admin.accessToken));
    expect(retried.status).toBe(503);
    expect(retried.body.type).toMatch(/\/jobs-unavailable$/);
    const unknownQueue = await request(t.app)
      .get('/api/v1/admin/jobs/failed?queue=everything')
      .set(bearer(admin.accessToken));
    expect(unknownQueue.status).toBe(422);
  });

  it('when Redis cannot be reached, the service answers jobs-unavailable within its deadline instead of waiting', async () => {
    const queues = createJobQueues({ redisUrl: UNREACHABLE_REDIS, keyPrefix: `test-${randomUUID()}:` });
    const service = createAdminJobsService({
      db: t.db,
      auditLog: createAuditLog(),
      cursors: createCursors(randomUUID()),
      queues,
      redisTimeoutMs: 200,
      queueNames: ['reminders'],
      beforeRetry: {},
    });
    try {
      const started = performance.now();
      await expect(service.listFailed({ limit: 20 })).rejects.toSatisfy(
        (err) => err instanceof UnavailableError && err.code === 'jobs-unavailable',
      );
      await expect(
        service.retry(randomUUID(), 'reminders.deliver.x', { ip: undefined, requestId: 'r', userAgent: undefined }),
      ).rejects.toSatisfy((err) => err instanceof UnavailableError && err.code === 'jobs-unavailable');
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      void queues.close();
    }
  });
});
