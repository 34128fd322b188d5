import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '../../src/platform/migrations.js';
import { ROOT, TEST_VAPID_PRIVATE_KEY } from '../support/app.js';
import { admin, createTestDatabase } from '../support/postgres.js';
import { spawnServer } from '../support/server-process.js';

describe.runIf(inject('redisUrl'))('production start on an unmigrated database', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    // An empty database: what a new environment looks like before its migration Job has run.
    await admin(database.url, async (c) => {
      await c.query('DROP SCHEMA public CASCADE');
      await c.query('CREATE SCHEMA public');
    });
  });
  afterAll(async () => {
    server?.kill();
    await database.drop();
  });

  it('when migrations are pending, stays unready (startup and readiness 503) until they are applied', async () => {
    const started = await spawnServer(
      {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        DATABASE_LOCAL_CONNECTION: 'true',
        REDIS_URL: inject('redisUrl') ?? '',
        CORS_ORIGINS: 'https://app.mingus.test',
        HEALTH_TOKEN: 'startup-test-token-0123456789abcdefghijklmnop',
        JWT_SECRET: 'startup-test-jwt-secret-0123456789abcdefghijk',
        CSRF_SECRET: 'startup-test-csrf-secret-0123456789abcdefghij',
        EMAIL_HASH_KEY: 'startup-test-email-hash-key-0123456789abcdefg',
        FIELD_ENCRYPTION_KEYS: `k1:${Buffer.from('startup-test-field-key-012345678').toString('base64')}`,
        FIELD_ENCRYPTION_KEY_ID: 'k1',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        MAIL_FROM: 'no-reply@mingus.test',
        VAPID_PRIVATE_KEY: TEST_VAPID_PRIVATE_KEY,
        VAPID_SUBJECT: 'mailto:ops@mingus.test',
        APP_URL: 'https://app.mingus.test',
      },
      { path: '/health/liveness', status: 200 },
    );
    server = started;
    // Logged once the server, already listening, has read the migration status and found them pending.
    await expect.poll(() => started.output(), { timeout: 15_000 }).toContain('waiting for migrations');
    expect((await fetch(started.url('/health/startup'))).status).toBe(503);
    expect((await fetch(started.url('/health/readiness'))).status).toBe(503);

    await applyMigrations(database.url, ROOT);
    // The server reads the status again every two seconds.
    const startup = async () => (await fetch(started.url('/health/startup'))).status;
    await expect.poll(startup, { timeout: 15_000 }).toBe(200);
    expect((await fetch(started.url('/health/readiness'))).status).toBe(200);
  }, 90_000);
});
