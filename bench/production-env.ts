import { generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * What `NODE_ENV=production` requires besides the database and Redis (src/config/env.schema.ts,
 * REQUIRED_IN_PRODUCTION), with fresh random secrets for each process that asks: the bench keeps none of them. The
 * caller adds DATABASE_URL, REDIS_URL and SMTP_URL, which depend on the run.
 */
export function productionEnv() {
  const secret = () => randomBytes(48).toString('base64url');
  // The private scalar of a P-256 key in JWK form is always 32 bytes (padded): what VAPID_PRIVATE_KEY takes.
  const vapid = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    NODE_ENV: 'production',
    // The bench's PostgreSQL is on this machine: no TLS to require.
    DATABASE_LOCAL_CONNECTION: 'true',
    CORS_ORIGINS: 'https://bench.invalid',
    APP_URL: 'https://bench.invalid',
    HEALTH_TOKEN: secret(),
    JWT_SECRET: secret(),
    CSRF_SECRET: secret(),
    EMAIL_HASH_KEY: secret(),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    FIELD_ENCRYPTION_KEY_ID: 'k1',
    MAIL_FROM: 'Mingus <no-reply@bench.invalid>',
    VAPID_PRIVATE_KEY: vapid.d as string,
    VAPID_SUBJECT: 'mailto:bench@bench.invalid',
  };
}

/** For a process that never sends mail (the API): `.invalid` never resolves, so a send would fail loudly. */
export const NO_MAIL_SMTP_URL = 'smtp://mail.bench.invalid:25';

/** For a process whose Plaid calls are not measured (the API's reads): `.invalid` never resolves either. */
export const NO_PLAID_URL = 'https://plaid.bench.invalid';
