import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createJobQueues } from '../../src/platform/jobs.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../support/profile.js';
import { spawnServer } from '../support/server-process.js';
import { startSmtpServer } from '../support/smtp-server.js';

const USERS = 20;
const REMINDERS_EACH = 10;
const TOTAL = USERS * REMINDERS_EACH;
const SHUTDOWN_TIMEOUT_MS = 10_000;

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

/**
 * `TOTAL` email reminders due now, for real: the workers below run on the real clock. Time zone UTC and hour 0 put
 * each send time at the start of today (UTC), inside the 48-hour catch-up window whenever the test runs.
 */
async function seedDueReminders() {
  const today = new Date().toISOString().slice(0, 10);
  for (let u = 0; u < USERS; u++) {
    const user = await registerUser(t);
    await request(t.app)
      .put('/api/v1/profile')
      .set(bearer(user.accessToken))
      .send({ ...EMPTY_PROFILE_BODY, timezone: 'UTC', reminderHour: 0 })
      .expect(200);
    for (let r = 0; r < REMINDERS_EACH; r++) {
      await request(t.app)
        .post('/api/v1/reminders')
        .set(bearer(user.accessToken))
        .send({ title: `Bill ${u}-${r}`, dueDate: today, channel: 'email' })
        .expect(201);
    }
  }
}

const spawnWorker = () =>
  spawnServer(
    {
      NODE_ENV: 'test',
      DATABASE_URL: t.database.url,
      REDIS_URL: inject('redisUrl') ?? '',
      REDIS_KEY_PREFIX: t.config.redis.keyPrefix,
      SMTP_URL: smtp.url,
      WORKER_CONCURRENCY: '5',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      JOB_RETRY_DELAY_MS: '100',
    },
    { path: '/health/readiness', status: 200 },
    { script: 'src/worker.ts', portVariable: 'WORKER_PORT' },
  );

beforeAll(async () => {
  t = await startTestApp();
  // Each message takes the server 100 ms: sends are in flight when a worker is told to stop.
  smtp = await startSmtpServer({ delayMs: 100 });
  await seedDueReminders();
}, 120_000);
afterAll(async () => {
  await smtp.close();
  await t.close();
});

describe.runIf(inject('redisUrl'))('two worker processes', () => {
  it(`deliver ${TOTAL} due reminders, each exactly once, even when one is stopped mid-job`, async () => {
    const [first, second] = await Promise.all([spawnWorker(), spawnWorker()]);
    const queues = createJobQueues({ redisUrl: inject('redisUrl') ?? '', keyPrefix: t.config.redis.keyPrefix });
    try {
      // Each worker's scheduler would dispatch within the minute; two dispatches now, as two schedulers firing.
      const dispatch = { name: 'reminders.dispatch', queue: 'reminders' };
      await queues.queue(dispatch.queue).add(dispatch.name, {}, { jobId: `${dispatch.name}.test-a` });
      await queues.queue(dispatch.queue).add(dispatch.name, {}, { jobId: `${dispatch.name}.test-b` });

      // Stopped while sends are running: it finishes them (or leaves them to the other), then exits 0.
      await expect.poll(() => smtp.received.length, { timeout: 30_000, interval: 50 }).toBeGreaterThan(20);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('worker stopped');

      await expect.poll(() => smtp.received.length, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(TOTAL);
      // Settled: nothing left to run, then count again.
      await expect.poll(async () => (await queues.counts()).reminders?.active ?? 0, { timeout: 10_000 }).toBe(0);
      const subjects = smtp.received.map((m) => `${m.to && 'text' in m.to ? m.to.text : ''} ${m.subject}`);
      expect(subjects).toHaveLength(TOTAL);
      expect(new Set(subjects).size).toBe(TOTAL);
      const recorded = await t.db.prisma.reminderDelivery.count({ where: { status: 'sent' } });
      expect(recorded).toBe(TOTAL);
    } finally {
      await queues.close();
      second.child.kill('SIGTERM');
      await second.exited;
      first.kill();
    }
  }, 120_000);
});
