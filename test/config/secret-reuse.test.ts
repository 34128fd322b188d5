import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const strong = (seed: string) => `${seed}-Qm7Zt2Xw8Lr5Pd4Hn6Bc0Ye9Fa1k3J9v0s1`;
const fieldKey = Buffer.from('secret-reuse-test-field-key-0123').toString('base64');
const productionEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://mingus:pw@db.internal:5432/mingus?sslmode=verify-full',
  REDIS_URL: 'rediss://cache.internal:6380',
  CORS_ORIGINS: 'https://app.mingus.app',
  HEALTH_TOKEN: strong('health'),
  METRICS_TOKEN: strong('metrics'),
  JWT_SECRET: strong('jwt'),
  CSRF_SECRET: strong('csrf'),
  EMAIL_HASH_KEY: strong('email'),
  FIELD_ENCRYPTION_KEYS: `k1:${fieldKey}`,
  FIELD_ENCRYPTION_KEY_ID: 'k1',
  SMTP_URL: 'smtps://mingus:pw@smtp.internal:465',
  MAIL_FROM: 'no-reply@mingus.app',
  VAPID_PRIVATE_KEY: 'bH4dz6y2cpQMLtT46l5VPTGyDvVFlDoYw4LktfPcopU',
  VAPID_SUBJECT: 'mailto:ops@mingus.app',
  APP_URL: 'https://app.mingus.app',
};

const rootDir = mkdtempSync(path.join(tmpdir(), 'mingus-reuse-'));
afterAll(() => rmSync(rootDir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { rootDir, packageVersion: '1.2.3' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('one secret given to two variables', () => {
  it('when every secret differs, production accepts them', () => {
    expect(problemsOf(productionEnv)).toEqual([]);
  });

  it('when METRICS_TOKEN equals JWT_SECRET or CSRF_SECRET, production refuses the reuse', () => {
    expect(problemsOf({ ...productionEnv, METRICS_TOKEN: productionEnv.JWT_SECRET })).toEqual([
      'JWT_SECRET: must differ from METRICS_TOKEN',
    ]);
    expect(problemsOf({ ...productionEnv, METRICS_TOKEN: productionEnv.CSRF_SECRET })).toEqual([
      'CSRF_SECRET: must differ from METRICS_TOKEN',
    ]);
  });

  it('when three variables share one value, each reuse is named once', () => {
    const shared = strong('shared');
    expect(problemsOf({ ...productionEnv, HEALTH_TOKEN: shared, JWT_SECRET: shared, CSRF_SECRET: shared })).toEqual([
      'JWT_SECRET: must differ from HEALTH_TOKEN',
      'CSRF_SECRET: must differ from HEALTH_TOKEN',
    ]);
  });

  it('when a field encryption key is also a token, production refuses it; one key under two ids is a rename, not a reuse', () => {
    expect(problemsOf({ ...productionEnv, JWT_SECRET: fieldKey })).toEqual([
      'FIELD_ENCRYPTION_KEYS k1: must differ from JWT_SECRET',
    ]);
    expect(problemsOf({ ...productionEnv, FIELD_ENCRYPTION_KEYS: `k1:${fieldKey},k2:${fieldKey}` })).toEqual([]);
  });

  it('when development reuses a secret, it is accepted (development secrets are throw-away)', () => {
    const { NODE_ENV: _production, ...settings } = productionEnv;
    expect(problemsOf({ ...settings, METRICS_TOKEN: settings.JWT_SECRET })).toEqual([]);
  });
});
