import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createJobQueues } from '../../src/platform/jobs.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../support/profile.js';
import { spawnServer } from '../support/server-process.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const redisUrl = inject('redisUrl') ?? '';
let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;

beforeAll(async () => {
  t = await startTestApp();
  smtp = await startSmtpServer();
  const target = new URL(redisUrl || 'redis://127.0.0.1:6379');
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
});
afterAll(async () => {
  await proxy.close();
  await smtp.close();
  await t.close();
});

describe.runIf(inject('redisUrl'))('the worker when Redis goes away and comes back', () => {
  it('turns unready while Redis is gone, ready again without a restart, and then runs jobs', async () => {
    const worker = await spawnServer(
      {
        NODE_ENV: 'test',
        DATABASE_URL: t.database.url,
        REDIS_URL: proxy.through(redisUrl),
        REDIS_KEY_PREFIX: t.config.redis.keyPrefix,
        SMTP_URL: smtp.url,
      },
      { path: '/health/readiness', status: 200 },
      { script: 'src/worker.ts', portVariable: 'WORKER_PORT' },
    );
    const readiness = async () => (await fetch(worker.url('/health/readiness'))).status;
    try {
      proxy.cut();
      await expect.poll(readiness, { timeout: 10_000, interval: 200 }).toBe(503);
      proxy.restore();
      await expect.poll(readiness, { timeout: 15_000, interval: 200 }).toBe(200);

      // A reminder due now (UTC, hour 0 of today), dispatched after the outage: delivered by the same process.
      const user = await registerUser(t);
      await request(t.app)
        .put('/api/v1/profile')
        .set(bearer(user.accessToken))
        .send({ ...EMPTY_PROFILE_BODY, timezone: 'UTC', reminderHour: 0 })
        .expect(200);
      await request(t.app)
        .post('/api/v1/reminders')
        .set(bearer(user.accessToken))
        .send({ title: 'After the outage', dueDate: new Date().toISOString().slice(0, 10), channel: 'email' })
        .expect(201);
      const queues = createJobQueues({ redisUrl, keyPrefix: t.config.redis.keyPrefix });
      try {
        await queues.queue('reminders').add('reminders.dispatch', {}, { jobId: 'reminders.dispatch.after-outage' });
        await expect.poll(() => smtp.received.length, { timeout: 20_000, interval: 200 }).toBe(1);
      } finally {
        await queues.close();
      }
      expect(worker.child.exitCode).toBeNull();
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  }, 90_000);
});
