import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { ROOT } from '../support/app.js';

it('when production starts with missing and weak settings, exits 1 before listening and names every problem', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: '0',
      HEALTH_TOKEN: 'too-short',
      CORS_ORIGINS: 'http://app.mingus.app',
      BCRYPT_COST: '4',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('Invalid configuration (15 problems)');
  expect(result.stderr).toContain('DATABASE_URL: is required in production');
  expect(result.stderr).toContain('REDIS_URL: is required in production');
  expect(result.stderr).toContain('HEALTH_TOKEN: must be at least 32 bytes');
  expect(result.stderr).toContain('JWT_SECRET: is required in production');
  expect(result.stderr).toContain('CSRF_SECRET: is required in production');
  expect(result.stderr).toContain('EMAIL_HASH_KEY: is required in production');
  expect(result.stderr).toContain('FIELD_ENCRYPTION_KEYS: is required in production');
  expect(result.stderr).toContain('FIELD_ENCRYPTION_KEY_ID: is required in production');
  for (const name of ['SMTP_URL', 'MAIL_FROM', 'APP_URL', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT']) {
    expect(result.stderr).toContain(`${name}: is required in production`);
  }
  expect(result.stderr).toContain('CORS_ORIGINS: http://app.mingus.app must use https in production');
  expect(result.stderr).toContain('BCRYPT_COST: must be at least 10 in production');
  expect(result.stdout).not.toContain('listening');
  expect(result.stderr).not.toMatch(/\n\s+at /); // a message for an operator, not a stack trace
});
