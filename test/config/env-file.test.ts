import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { ROOT } from '../support/app.js';

const strong = (seed: string) => `${seed}-k3J9v0s1Qm7Zt2Xw8Lr5Pd4Hn6Bc0Ye9Fa1`;
const productionEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://mingus:pw@db.internal:5432/mingus?sslmode=verify-full',
  REDIS_URL: 'rediss://cache.internal:6380',
  CORS_ORIGINS: 'https://app.mingus.app',
  HEALTH_TOKEN: strong('health'),
  JWT_SECRET: strong('jwt'),
  CSRF_SECRET: strong('csrf'),
  EMAIL_HASH_KEY: strong('email'),
  FIELD_ENCRYPTION_KEYS: `k1:${Buffer.from('env-file-test-field-key-01234567').toString('base64')}`,
  FIELD_ENCRYPTION_KEY_ID: 'k1',
  SMTP_URL: 'smtps://mingus:pw@smtp.internal:465',
  MAIL_FROM: 'no-reply@mingus.app',
  VAPID_PRIVATE_KEY: 'vekUc-DgCjZFI3hBLXJu5qZkDGHMtftwLxP45XiKjSc',
  VAPID_SUBJECT: 'mailto:ops@mingus.app',
  APP_URL: 'https://app.mingus.app',
};

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'mingus-env-file-'));
  roots.push(root);
  return root;
}

/** A root holding `.env` with `text`, as a checkout would. */
function rootWithEnvFile(text: string): string {
  const root = tempRoot();
  writeFileSync(path.join(root, '.env'), text);
  return root;
}

const load = (env: Record<string, string>, rootDir: string) => loadConfig(env, { rootDir, packageVersion: '1.2.3' });

function problemsOf(env: Record<string, string>, rootDir: string): string[] {
  try {
    load(env, rootDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('.env', () => {
  it('when a development start finds .env, applies what the environment lacks, and the environment wins', () => {
    const root = rootWithEnvFile('PORT=4567\nLOG_LEVEL=debug\nBILLING_GRACE_DAYS=7\n');

    const config = load({ LOG_LEVEL: 'warn' }, root);

    expect(config.http.port).toBe(4567);
    expect(config.billing.graceDays).toBe(7);
    expect(config.log.level).toBe('warn');
    expect(config.envFile).toBe(path.join(root, '.env'));
  });

  it('when NODE_ENV is production or test, .env is not read', () => {
    const root = rootWithEnvFile('PORT=4567\nNODE_ENV=development\n');

    const production = load(productionEnv, root);
    const test = load({ NODE_ENV: 'test' }, root);

    expect(production.http.port).toBe(3000);
    expect(production.envFile).toBeUndefined();
    expect(test.http.port).toBe(3000);
    expect(test.envFile).toBeUndefined();
  });

  it('when .env sets NODE_ENV=production, a start without NODE_ENV is refused and names the file', () => {
    const root = rootWithEnvFile('NODE_ENV=production\nPORT=4567\n');

    const problems = problemsOf({}, root);

    expect(problems).toEqual([
      expect.stringMatching(/^NODE_ENV: .*\.env sets it to "production".*never read in production.*NODE_ENV/),
    ]);
  });

  it('when .env is Docker Compose production settings and the environment says development, leaves it unread', () => {
    const root = rootWithEnvFile('NODE_ENV=production\nPORT=4567\n');

    const config = load({ NODE_ENV: 'development' }, root);

    expect(config.http.port).toBe(3000);
    expect(config.envFile).toBeUndefined();
  });

  it('when a value set in .env is invalid, the problem says it came from .env', () => {
    const root = rootWithEnvFile('PORT=eighty\n');

    expect(problemsOf({ LOG_LEVEL: 'loud' }, root)).toEqual([
      expect.stringMatching(/^PORT: .*\(set in \.env\)$/),
      expect.stringMatching(/^LOG_LEVEL: (?!.*set in \.env)/),
    ]);
  });

  it('when .env.example is copied unedited to .env, development runs exactly as without it', () => {
    const root = tempRoot();
    const without = load({}, root);
    copyFileSync(path.join(ROOT, '.env.example'), path.join(root, '.env'));

    const { envFile, ...withCopy } = load({}, root);

    expect(envFile).toBe(path.join(root, '.env'));
    expect(withCopy).toEqual({ ...without, envFile: undefined });
  });
});
