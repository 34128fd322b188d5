import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { dueOccurrences } from '../../src/modules/reminders/reminders.deliveries.repo.js';
import { failureCode } from '../../src/platform/jobs.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../support/auth.js';
import { startTestJobs } from '../support/jobs.js';
import { EMPTY_PROFILE_BODY } from '../support/profile.js';
import { type PushService, startPushService } from '../support/push-service.js';
import { startSmtpServer } from '../support/smtp-server.js';

/** The jobs' clock; each test sets it. Dates below derive from it, never from today's date. */
let clock = new Date('2024-03-10T16:00:00.000Z');
const now = () => clock;

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let jobs: Awaited<ReturnType<typeof startTestJobs>>;
let pushService: PushService;

beforeAll(async () => {
  t = await startTestApp({ now });
  smtp = await startSmtpServer();
  pushService = await startPushService();
  jobs = await startTestJobs(t, { smtpUrl: smtp.url, now, pushAgent: pushService.agent });
});
afterAll(async () => {
  await jobs.close();
  await smtp.close();
  await pushService.close();
  await t.close();
});
afterEach(() => smtp.accept());

async function userIn(timezone: string, reminderHour: number): Promise<SignedInUser> {
  const user = await registerUser(t);
  const res = await request(t.app)
    .put('/api/v1/profile')
    .set(bearer(user.accessToken))
    .send({ ...EMPTY_PROFILE_BODY, timezone, reminderHour });
  if (res.status !== 200) throw new Error(`profile: ${res.status} ${JSON.stringify(res.body)}`);
  return user;
}

async function reminder(user: SignedInUser, body: { title: string; dueDate: string; channel?: 'email' | 'push' }) {
  const res = await request(t.app)
    .post('/api/v1/reminders')
    .set(bearer(user.accessToken))
    .send({ channel: 'email', ...body });
  if (res.status !== 201) throw new Error(`reminder: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; dueDate: string };
}

const detail = async (user: SignedInUser, id: string) =>
  (await request(t.app).get(`/api/v1/reminders/${id}`).set(bearer(user.accessToken))).body;

/** The reminders mailed to `email` (registration also mails a verification link, which is not one). */
const mailsTo = (email: string) =>
  smtp.received.filter((m) => m.to && 'text' in m.to && m.to.text === email && m.subject?.startsWith('Reminder: '));

describe.runIf(inject('redisUrl'))('reminders delivered by email', () => {
  it('sends a due reminder once, at its hour in the user’s zone, and records it on the reminder', async () => {
    clock = new Date('2024-03-10T16:00:00.000Z'); // 09:00 in Los Angeles, the day daylight saving starts
    const user = await userIn('America/Los_Angeles', 9);
    const due = await reminder(user, { title: 'Pay <rent>', dueDate: '2024-03-10' });

    await jobs.dispatch();
    await expect.poll(() => mailsTo(user.email).length, { timeout: 10_000 }).toBe(1);
    const mail = mailsTo(user.email)[0];
    expect(mail?.subject).toBe('Reminder: Pay <rent>');
    expect(mail?.html).toContain('Pay &lt;rent&gt;');

    await expect.poll(async () => (await detail(user, due.id)).lastDelivery?.status, { timeout: 5_000 }).toBe('sent');
    expect((await detail(user, due.id)).lastDelivery).toEqual({
      occurrence: '2024-03-10',
      channel: 'email',
      status: 'sent',
      attempts: 1,
      lastErrorCode: null,
      sentAt: clock.toISOString(),
    });

    // Dispatched again (the next minute, a second worker): nothing more is enqueued or sent.
    await jobs.dispatch();
    await jobs.dispatch();
    // (the scheduler's next dispatch waits, delayed, in the same queue)
    const pending = async () => {
      const waiting = await jobs.queues.queue('reminders').getJobs(['waiting', 'active', 'delayed']);
      return waiting.filter((job) => job.name !== 'reminders.dispatch').length;
    };
    await expect.poll(pending, { timeout: 5_000 }).toBe(0);
    expect(mailsTo(user.email)).toHaveLength(1);
  });

  it('sends nothing for a reminder completed, or moved to another date, after its delivery was enqueued', async () => {
    clock = new Date('2024-03-11T16:00:00.000Z');
    const user = await userIn('America/Los_Angeles', 9);
    const done = await reminder(user, { title: 'Done already', dueDate: '2024-03-11' });
    const moved = await reminder(user, { title: 'Moved', dueDate: '2024-03-11' });
    const send = (body: object, id: string) =>
      request(t.app).patch(`/api/v1/reminders/${id}`).set(bearer(user.accessToken)).send(body);
    expect((await send({ completedAt: clock.toISOString() }, done.id)).status).toBe(200);
    expect((await send({ dueDate: '2024-03-12' }, moved.id)).status).toBe(200);
    // The deliveries a dispatch enqueued a moment before the changes.
    const deliver = jobs.jobs.reminders.deliver;
    const ids = await Promise.all(
      [done.id, moved.id].map((id) =>
        jobs.queues.enqueue(deliver, { reminderId: id, occurrence: '2024-03-11' }, `${id}.2024-03-11`),
      ),
    );
    for (const id of ids) {
      await expect.poll(() => jobs.queues.queue('reminders').getJobState(id), { timeout: 10_000 }).toBe('completed');
    }
    expect(mailsTo(user.email)).toHaveLength(0);
    expect((await detail(user, done.id)).lastDelivery).toBeNull();
  });

  it('retries while the SMTP server is down, and delivers once it is back', async () => {
    clock = new Date('2024-03-12T16:00:00.000Z');
    const user = await userIn('America/Los_Angeles', 9);
    const due = await reminder(user, { title: 'Renew insurance', dueDate: '2024-03-12' });
    await smtp.stop();
    try {
      await jobs.dispatch();
      await expect
        .poll(async () => (await detail(user, due.id)).lastDelivery, { timeout: 10_000 })
        .toMatchObject({ status: 'retrying', lastErrorCode: 'smtp-unavailable' });
    } finally {
      await smtp.start();
    }
    await expect.poll(() => mailsTo(user.email).length, { timeout: 15_000 }).toBe(1);
    await expect
      .poll(async () => (await detail(user, due.id)).lastDelivery, { timeout: 5_000 })
      .toMatchObject({ status: 'sent', lastErrorCode: null });
    expect((await detail(user, due.id)).lastDelivery.attempts).toBeGreaterThan(1);
  });

  it('gives up at once, without retrying, when the SMTP server refuses the message for good', async () => {
    clock = new Date('2024-03-13T16:00:00.000Z');
    const user = await userIn('America/Los_Angeles', 9);
    const due = await reminder(user, { title: 'Refused', dueDate: '2024-03-13' });
    smtp.refuse(550);
    await jobs.dispatch();
    await expect
      .poll(async () => (await detail(user, due.id)).lastDelivery, { timeout: 10_000 })
      .toMatchObject({ status: 'failed', attempts: 1, lastErrorCode: 'smtp-refused' });
    const job = await jobs.queues.queue('reminders').getJob(`reminders.deliver.${due.id}.2024-03-13`);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect(failureCode(job?.failedReason)).toBe('smtp-refused');
  });
});

describe.runIf(inject('redisUrl'))('reminders delivered by Web Push', () => {
  async function subscribed(user: SignedInUser) {
    const subscription = pushService.newSubscription();
    const res = await request(t.app)
      .post('/api/v1/users/me/push-subscriptions')
      .set(bearer(user.accessToken))
      .send({ endpoint: subscription.endpoint, keys: subscription.keys });
    if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
    return subscription;
  }
  const subscriptionCount = async (user: SignedInUser) =>
    (await request(t.app).get('/api/v1/users/me/push-subscriptions').set(bearer(user.accessToken))).body.data.length;

  it('pushes a due reminder to every device of the user, encrypted to each, once', async () => {
    clock = new Date('2024-03-14T16:00:00.000Z');
    const user = await userIn('America/Los_Angeles', 9);
    const [phone, laptop] = [await subscribed(user), await subscribed(user)];
    const due = await reminder(user, { title: 'Call the bank', dueDate: '2024-03-14', channel: 'push' });
    await jobs.dispatch();
    await expect.poll(async () => (await detail(user, due.id)).lastDelivery?.status, { timeout: 10_000 }).toBe('sent');
    const pushed = { type: 'reminder', reminderId: due.id, title: 'Call the bank', dueDate: '2024-03-14' };
    expect(phone?.received).toEqual([pushed]);
    expect(laptop?.received).toEqual([pushed]);
    await jobs.dispatch();
    await expect.poll(async () => (await detail(user, due.id)).lastDelivery?.attempts).toBe(1);
    expect(phone?.received).toHaveLength(1);
  });

  it('removes a subscription its push service says is gone, and fails the delivery when none is left', async () => {
    clock = new Date('2024-03-15T16:00:00.000Z');
    const user = await userIn('America/Los_Angeles', 9);
    const gone = await subscribed(user);
    pushService.answer(gone.endpoint, 410);
    const due = await reminder(user, { title: 'Gone', dueDate: '2024-03-15', channel: 'push' });
    await jobs.dispatch();
    await expect
      .poll(async () => (await detail(user, due.id)).lastDelivery, { timeout: 10_000 })
      .toMatchObject({ status: 'failed', attempts: 1, lastErrorCode: 'push-gone' });
    expect(await subscriptionCount(user)).toBe(0);
  });

  it('records a push reminder of a user with no device as skipped, and retries a push service that fails', async () => {
    clock = new Date('2024-03-16T16:00:00.000Z');
    const lonely = await userIn('America/Los_Angeles', 9);
    const skipped = await reminder(lonely, { title: 'Nobody listens', dueDate: '2024-03-16', channel: 'push' });
    const user = await userIn('America/Los_Angeles', 9);
    const device = await subscribed(user);
    pushService.answer(device.endpoint, 503);
    const due = await reminder(user, { title: 'Flaky', dueDate: '2024-03-16', channel: 'push' });
    await jobs.dispatch();
    await expect
      .poll(async () => (await detail(lonely, skipped.id)).lastDelivery, { timeout: 10_000 })
      .toMatchObject({ status: 'skipped', lastErrorCode: 'no-push-subscription' });
    await expect
      .poll(async () => (await detail(user, due.id)).lastDelivery, { timeout: 10_000 })
      .toMatchObject({ status: 'retrying', lastErrorCode: 'push-unavailable' });
    pushService.answer(device.endpoint, 201);
    await expect.poll(async () => (await detail(user, due.id)).lastDelivery?.status, { timeout: 15_000 }).toBe('sent');
    expect(device.received).toHaveLength(1);
  });
});

describe.runIf(inject('redisUrl'))('which occurrences are due, at the edges of time zones', () => {
  it.each([
    ['Pacific/Auckland, 09:00 NZDT (UTC+13)', 'Pacific/Auckland', 9, '2024-03-10', '2024-03-09T20:00:00.000Z'],
    [
      'Los Angeles, 09:00 PST the day before daylight saving',
      'America/Los_Angeles',
      9,
      '2024-03-09',
      '2024-03-09T17:00:00.000Z',
    ],
    [
      'Los Angeles, 09:00 PDT the day daylight saving starts',
      'America/Los_Angeles',
      9,
      '2024-03-10',
      '2024-03-10T16:00:00.000Z',
    ],
    [
      'Los Angeles, 09:00 PST the day daylight saving ends',
      'America/Los_Angeles',
      9,
      '2024-11-03',
      '2024-11-03T17:00:00.000Z',
    ],
    ['Kolkata, 00:00 IST (UTC+05:30)', 'Asia/Kolkata', 0, '2024-03-10', '2024-03-09T18:30:00.000Z'],
  ])('%s: due from %s at %s, not a second earlier', async (_name, zone, hour, dueDate, sendAt) => {
    const user = await userIn(zone, hour);
    const due = await reminder(user, { title: 'Edge', dueDate });
    const dueAt = async (instant: Date) => {
      const found: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await dueOccurrences(t.db, instant, after, 500);
        found.push(...page.map((o) => o.reminderId));
        if (page.length < 500) return found.includes(due.id);
        after = page.at(-1)?.reminderId;
      }
    };
    const at = new Date(sendAt);
    expect(await dueAt(new Date(at.getTime() - 1_000))).toBe(false);
    expect(await dueAt(at)).toBe(true);
    // Still due the next day, when a worker was down: the catch-up window is 48 hours.
    expect(await dueAt(new Date(at.getTime() + 47 * 3_600_000))).toBe(true);
    expect(await dueAt(new Date(at.getTime() + 49 * 3_600_000))).toBe(false);
  });
});
