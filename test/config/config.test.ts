import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { EnvSchema, EXAMPLE_SECRET_VALUES } from '../../src/config/env.schema.js';
import { ROOT } from '../support/app.js';

const strongToken = 'k3J9v0s1Qm7Zt2Xw8Lr5Pd4Hn6Bc0Ye9Fa1Gu3Ti5Ko7';
const productionEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://mingus:pw@db.internal:5432/mingus?sslmode=verify-full',
  REDIS_URL: 'rediss://cache.internal:6380',
  CORS_ORIGINS: 'https://app.mingus.app,https://www.mingus.app',
  HEALTH_TOKEN: strongToken,
  JWT_SECRET: 'Jw7tQ2xL9vB4nR8kZ3pS6dF1hG5mC0yT2uE8aW4',
  CSRF_SECRET: 'Cs9rF3kL7xQ1vB5nM8pZ2dT6hG0wY4aJ3uE7iK1',
  EMAIL_HASH_KEY: 'Eh4mK8sP1xW6qZ3vB9nL2dT7hG5yC0uJ4aR8fN2',
  FIELD_ENCRYPTION_KEYS: 'k1:bWluZ3VzLWNvbmZpZy10ZXN0LWZpZWxkLWtleS0wMDE=',
  FIELD_ENCRYPTION_KEY_ID: 'k1',
  SMTP_URL: 'smtps://mingus:pw@smtp.internal:465',
  MAIL_FROM: 'Mingus <no-reply@mingus.app>',
  VAPID_PRIVATE_KEY: 'TqKOUABjTjYaJC87x4TOLyZgqqo-BPyXqe3DA-wN4uU',
  VAPID_SUBJECT: 'mailto:ops@mingus.app',
  APP_URL: 'https://app.mingus.app',
};

const tempRoot = () => mkdtempSync(path.join(tmpdir(), 'mingus-config-'));
const load = (env: Record<string, string>, rootDir = tempRoot()) =>
  loadConfig(env, { rootDir, packageVersion: '1.2.3' });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('production configuration', () => {
  it('when every required setting is missing, names each of them in one error', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    const required = [
      'DATABASE_URL',
      'REDIS_URL',
      'CORS_ORIGINS',
      'HEALTH_TOKEN',
      'JWT_SECRET',
      'CSRF_SECRET',
      'EMAIL_HASH_KEY',
      'FIELD_ENCRYPTION_KEYS',
      'FIELD_ENCRYPTION_KEY_ID',
      'SMTP_URL',
      'MAIL_FROM',
      'APP_URL',
      'VAPID_PRIVATE_KEY',
      'VAPID_SUBJECT',
    ];
    for (const name of required) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
    expect(problems).toHaveLength(required.length);
  });

  it('when the message is shown, it lists every problem on its own line', () => {
    try {
      load({ NODE_ENV: 'production', PORT: 'eighty' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/^Invalid configuration \(15 problems\):/);
      expect(message).toContain('  - PORT:');
      expect(message).toContain('  - DATABASE_URL: is required in production');
    }
  });

  it('when a secret is shorter than 32 bytes, refuses it and says why', () => {
    const problems = problemsOf({ ...productionEnv, HEALTH_TOKEN: 'short-but-random-9f8e7d' });
    expect(problems).toEqual([expect.stringMatching(/^HEALTH_TOKEN: must be at least 32 bytes/)]);
  });

  it('when a secret is an example placeholder, refuses it', () => {
    for (const example of EXAMPLE_SECRET_VALUES) {
      expect(problemsOf({ ...productionEnv, HEALTH_TOKEN: example })).toEqual([
        expect.stringMatching(/^HEALTH_TOKEN: is an example placeholder/),
      ]);
    }
  });

  it('when a secret is one character repeated, refuses it', () => {
    expect(problemsOf({ ...productionEnv, HEALTH_TOKEN: 'a'.repeat(64) })).toEqual([
      expect.stringMatching(/^HEALTH_TOKEN: is too repetitive/),
    ]);
  });

  it('when a CORS origin is plain http or not an origin, refuses it', () => {
    const problems = problemsOf({ ...productionEnv, CORS_ORIGINS: 'http://app.mingus.app' });
    expect(problems).toEqual([expect.stringMatching(/^CORS_ORIGINS: http:\/\/app.mingus.app must use https/)]);
    expect(problemsOf({ ...productionEnv, CORS_ORIGINS: 'https://app.mingus.app/path' })).toEqual([
      expect.stringMatching(/^CORS_ORIGINS\.0: must be an origin/),
    ]);
  });

  it('when a URL carries the example placeholder password, refuses it', () => {
    const problems = problemsOf({
      ...productionEnv,
      DATABASE_URL: 'postgresql://mingus:replace-me@db.internal:5432/mingus?sslmode=require',
      REDIS_URL: 'rediss://default:change-me@cache.internal:6380',
    });
    expect(problems).toEqual([
      'DATABASE_URL: its password is an example placeholder',
      'REDIS_URL: its password is an example placeholder',
    ]);
  });

  it('when CORS_ORIGINS lists nothing but separators, counts it as missing', () => {
    expect(problemsOf({ ...productionEnv, CORS_ORIGINS: ' , ' })).toEqual([
      expect.stringMatching(/^CORS_ORIGINS: is required in production/),
    ]);
  });

  it('when URLs have the wrong scheme, refuses them', () => {
    const problems = problemsOf({ ...productionEnv, DATABASE_URL: 'mysql://db/x', REDIS_URL: 'http://cache' });
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: must be a postgresql:\/\/ URL/),
      expect.stringMatching(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/),
    ]);
  });

  it('when complete, loads without generating any development secret', () => {
    const root = tempRoot();
    const config = load(productionEnv, root);
    expect(config.production).toBe(true);
    expect(config.db.url).toBe(productionEnv.DATABASE_URL);
    expect(config.http.corsOrigins).toEqual(['https://app.mingus.app', 'https://www.mingus.app']);
    expect(config.health.token).toBe(strongToken);
    expect(existsSync(path.join(root, '.data'))).toBe(false);
  });
});

describe('development configuration', () => {
  it('when nothing is set, uses the documented defaults', () => {
    const config = load({});
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(3000);
    expect(config.log.level).toBe('info');
    expect(config.db.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.version).toBe('1.2.3');
  });

  it('when started twice, generates its secrets once into .data/, readable by the owner only', () => {
    const root = tempRoot();
    const first = load({}, root);
    const second = load({}, root);
    const file = path.join(root, '.data', 'dev-secrets.json');
    expect(first.health.token).toHaveLength(43);
    expect(second.health.token).toBe(first.health.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.auth.jwtSecret).not.toBe(first.auth.csrfSecret);
    expect(second.auth).toEqual(first.auth);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      HEALTH_TOKEN: first.health.token,
      JWT_SECRET: first.auth.jwtSecret,
      CSRF_SECRET: first.auth.csrfSecret,
      EMAIL_HASH_KEY: first.auth.emailHashKey,
      FIELD_ENCRYPTION_KEYS: `dev:${first.fieldEncryption.keys.get('dev')?.toString('base64')}`,
      VAPID_PRIVATE_KEY: first.push.privateKey,
    });
    expect(second.push).toEqual(first.push);
    expect(first.fieldEncryption.currentKeyId).toBe('dev');
    expect(second.fieldEncryption).toEqual(first.fieldEncryption);
  });

  it('when a value is malformed, refuses it even outside production', () => {
    expect(problemsOf({ PORT: '70000', LOG_LEVEL: 'loud' })).toEqual([
      expect.stringMatching(/^PORT:/),
      expect.stringMatching(/^LOG_LEVEL:/),
    ]);
  });

  it('when a number is empty, hexadecimal or fractional, uses the default or refuses it', () => {
    expect(load({ PORT: '' }).http.port).toBe(3000);
    expect(problemsOf({ PORT: '0x50', WEB_CONCURRENCY: '1.5', DATABASE_POOL_MAX: '-1' })).toEqual([
      expect.stringMatching(/^PORT: must be a whole number/),
      expect.stringMatching(/^DATABASE_POOL_MAX: must be a whole number/),
      expect.stringMatching(/^WEB_CONCURRENCY: must be a whole number/),
    ]);
  });

  it('when a database URL names no host or database, refuses it', () => {
    expect(problemsOf({ DATABASE_URL: 'postgresql://' })).toEqual([
      expect.stringMatching(/^DATABASE_URL: must name a host/),
    ]);
  });

  it('when a database URL selects another schema, refuses it', () => {
    expect(problemsOf({ DATABASE_URL: 'postgresql://u:p@db/mingus?schema=other' })).toEqual([
      expect.stringMatching(/^DATABASE_URL: must not set \?schema=/),
    ]);
  });

  it('when a token carries white space around it (a newline from a Secret file), refuses it', () => {
    expect(problemsOf({ HEALTH_TOKEN: `${strongToken}\n` })).toEqual([
      expect.stringMatching(/^HEALTH_TOKEN: has leading or trailing white space/),
    ]);
  });

  it('when a variable is set to an empty string, treats it as unset', () => {
    const config = load({ DATABASE_URL: '', REDIS_URL: ' ', HEALTH_TOKEN: '' });
    expect(config.db.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
  });
});

describe('.env.example', () => {
  const documented = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const entries = new Map(
    [...documented.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );

  it('documents exactly the variables the configuration schema reads', () => {
    expect([...entries.keys()].sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it('holds only secrets that production refuses', () => {
    for (const name of ['HEALTH_TOKEN', 'JWT_SECRET', 'CSRF_SECRET', 'EMAIL_HASH_KEY']) {
      // Empty (development generates its own), or a placeholder.
      expect(['', ...EXAMPLE_SECRET_VALUES]).toContain(entries.get(name));
      expect(problemsOf({ ...productionEnv, [name]: entries.get(name) ?? '' }), name).toHaveLength(1);
    }
  });
});

describe('metrics and error reporting', () => {
  const metricsToken = 'm7Qx2Vb9Lk4Zp0Rt6Ws3Yh8Nd1Fc5Ja0Ue';

  it('when nothing is set, leaves /metrics and Sentry off, in development too', () => {
    const root = tempRoot();
    const config = load({}, root);
    expect(config.metrics.token).toBeUndefined();
    expect(config.sentry).toEqual({ dsn: undefined, environment: 'development', release: '1.2.3' });
    expect(Object.keys(JSON.parse(readFileSync(path.join(root, '.data', 'dev-secrets.json'), 'utf8')))).toEqual([
      'HEALTH_TOKEN',
      'JWT_SECRET',
      'CSRF_SECRET',
      'EMAIL_HASH_KEY',
      'FIELD_ENCRYPTION_KEYS',
      'VAPID_PRIVATE_KEY',
    ]);
  });

  it('when set, passes the metrics token and the Sentry settings through', () => {
    const config = load({
      ...productionEnv,
      METRICS_TOKEN: metricsToken,
      SENTRY_DSN: 'https://0123abcd@o42.ingest.sentry.io/4507',
      APP_VERSION: '2.0.0',
    });
    expect(config.metrics.token).toBe(metricsToken);
    expect(config.sentry).toEqual({
      dsn: 'https://0123abcd@o42.ingest.sentry.io/4507',
      environment: 'production',
      release: '2.0.0',
    });
    const named = load({ SENTRY_ENVIRONMENT: 'staging', SENTRY_RELEASE: 'mingus-api@2.0.0-rc.1' });
    expect(named.sentry).toMatchObject({ environment: 'staging', release: 'mingus-api@2.0.0-rc.1' });
  });

  it('when the metrics token is weak, refuses it as any other secret', () => {
    expect(problemsOf({ METRICS_TOKEN: 'short' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: must be at least 32/),
    ]);
    expect(problemsOf({ METRICS_TOKEN: 'replace-me-with-a-random-metrics-token-000' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: is an example placeholder/),
    ]);
  });

  it('when production reuses the health token for metrics, refuses it', () => {
    expect(problemsOf({ ...productionEnv, METRICS_TOKEN: strongToken })).toEqual([
      'METRICS_TOKEN: must differ from HEALTH_TOKEN',
    ]);
  });

  it('when SENTRY_DSN is not a DSN, refuses it', () => {
    for (const dsn of [
      'sentry.example.com',
      'https://o42.ingest.sentry.io/4507',
      'ftp://key@host/1',
      'https://key@host/',
    ]) {
      expect(problemsOf({ SENTRY_DSN: dsn }), dsn).toEqual([
        expect.stringMatching(/^SENTRY_DSN: must be a Sentry DSN/),
      ]);
    }
  });
});

describe('identity and abuse-limit settings', () => {
  it('when production gives one value to two secrets, refuses the reuse', () => {
    expect(problemsOf({ ...productionEnv, CSRF_SECRET: productionEnv.JWT_SECRET })).toEqual([
      'CSRF_SECRET: must differ from JWT_SECRET',
    ]);
    expect(problemsOf({ ...productionEnv, JWT_SECRET: strongToken })).toEqual([
      'JWT_SECRET: must differ from HEALTH_TOKEN',
    ]);
  });

  it('when nothing is set, uses the documented limits and trusts no proxy', () => {
    const config = load({});
    expect(config.trustProxy).toBe(false);
    expect(config.limits).toEqual({
      perMinute: 100,
      authPerMinute: 5,
      registerPerHour: 3,
      webhookPerMinute: 1000,
      lockoutThreshold: 5,
      lockoutAccountThreshold: 50,
      lockoutMinutes: 15,
    });
    expect(config.auth).toMatchObject({
      bcryptCost: 12,
      refreshTokenTtlDays: 30,
      sessionMaxDays: 90,
      accessTokenTtlSeconds: 900,
    });
    expect(config.redis.keyPrefix).toBe('mingus:');
  });

  it('when TRUST_PROXY is a hop count or a list of proxies, passes it to Express as such', () => {
    expect(load({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
  });

  it('when TRUST_PROXY would trust every hop or is not an address list, refuses it', () => {
    expect(problemsOf({ TRUST_PROXY: 'true' })).toEqual([
      expect.stringMatching(/^TRUST_PROXY: must not trust every proxy/),
    ]);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/99' })).toEqual([
      expect.stringMatching(/^TRUST_PROXY: must be a hop count/),
    ]);
  });

  it('when BCRYPT_COST is below 10 in production, refuses it', () => {
    expect(problemsOf({ ...productionEnv, BCRYPT_COST: '9' })).toEqual([
      'BCRYPT_COST: must be at least 10 in production',
    ]);
    expect(problemsOf({ ...productionEnv, BCRYPT_COST: '4' })).toEqual([
      'BCRYPT_COST: must be at least 10 in production',
    ]);
    expect(load({ ...productionEnv, BCRYPT_COST: '10' }).auth.bcryptCost).toBe(10);
  });

  it("when BCRYPT_COST is below 10 outside production, accepts it down to bcrypt's own minimum of 4", () => {
    expect(load({ NODE_ENV: 'test', BCRYPT_COST: '4' }).auth.bcryptCost).toBe(4);
    expect(load({ BCRYPT_COST: '9' }).auth.bcryptCost).toBe(9);
    expect(problemsOf({ NODE_ENV: 'test', BCRYPT_COST: '3' })).toEqual([expect.stringMatching(/^BCRYPT_COST:/)]);
    expect(problemsOf({ BCRYPT_COST: '16' })).toEqual([expect.stringMatching(/^BCRYPT_COST:/)]);
  });
});

describe('field encryption keys', () => {
  const key = (fill: string) => Buffer.from(fill.repeat(32).slice(0, 32)).toString('base64');
  const k1 = `k1:${Buffer.from('abcdefghijklmnopqrstuvwxyz012345').toString('base64')}`;
  const k2 = `k2:${Buffer.from('ZYXWVUTSRQPONMLKJIHGFEDCBA987654').toString('base64')}`;

  it('when several keys are listed, every one decrypts and the named one encrypts', () => {
    const config = load({ FIELD_ENCRYPTION_KEYS: `${k1},${k2}`, FIELD_ENCRYPTION_KEY_ID: 'k2' });
    expect([...config.fieldEncryption.keys.keys()]).toEqual(['k1', 'k2']);
    expect(config.fieldEncryption.currentKeyId).toBe('k2');
  });

  it('when a key is not 32 bytes, repeats itself or is listed twice, refuses it and says why', () => {
    expect(problemsOf({ FIELD_ENCRYPTION_KEYS: `k1:${Buffer.alloc(16, 7).toString('base64')}` })).toEqual([
      expect.stringMatching(/^FIELD_ENCRYPTION_KEYS: must list keys as id:base64 with exactly 32 bytes/),
    ]);
    expect(problemsOf({ FIELD_ENCRYPTION_KEYS: `k1:${key('a')}` })).toEqual([
      'FIELD_ENCRYPTION_KEYS: key k1 is too repetitive to be random',
    ]);
    expect(problemsOf({ FIELD_ENCRYPTION_KEYS: `${k1},${k1}`, FIELD_ENCRYPTION_KEY_ID: 'k1' })).toEqual([
      'FIELD_ENCRYPTION_KEYS: lists key id k1 twice',
    ]);
  });

  it('when the current key id is not listed, or several keys leave it unsaid, refuses the configuration', () => {
    expect(problemsOf({ FIELD_ENCRYPTION_KEYS: k1, FIELD_ENCRYPTION_KEY_ID: 'k9' })).toEqual([
      'FIELD_ENCRYPTION_KEY_ID: k9 is not one of the keys of FIELD_ENCRYPTION_KEYS (k1)',
    ]);
    expect(problemsOf({ FIELD_ENCRYPTION_KEYS: `${k1},${k2}` })).toEqual([
      'FIELD_ENCRYPTION_KEY_ID: is required when FIELD_ENCRYPTION_KEYS lists more than one key',
    ]);
  });
});

describe('billing configuration', () => {
  it('when STRIPE_SECRET_KEY is set alone, names every other billing variable it needs', () => {
    const problems = problemsOf({ STRIPE_SECRET_KEY: 'sk_test_51abcdefghijklmnop' });
    expect(problems).toHaveLength(6);
    for (const p of problems) expect(p).toMatch(/: is required when STRIPE_SECRET_KEY is set/);
  });

  it('when billing is unset, leaves it off; when complete, passes it through', () => {
    expect(load({}).billing).toEqual({ graceDays: 3, stripe: undefined });
    const config = load({
      STRIPE_SECRET_KEY: 'sk_test_51abcdefghijklmnop',
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuv',
      STRIPE_PRICE_BUDGET: 'price_budget1',
      STRIPE_PRICE_MID_TIER: 'price_mid1',
      STRIPE_PRICE_PROFESSIONAL: 'price_pro1',
      BILLING_SUCCESS_URL: 'https://app.example.com/ok',
      BILLING_CANCEL_URL: 'https://app.example.com/cancel',
      BILLING_GRACE_DAYS: '5',
    });
    expect(config.billing.graceDays).toBe(5);
    expect(config.billing.stripe?.prices).toEqual({
      budget: 'price_budget1',
      mid_tier: 'price_mid1',
      professional: 'price_pro1',
    });
    expect(config.billing.stripe?.portalReturnUrl).toBe('https://app.example.com/ok');
  });

  it('when a Stripe value has the wrong shape, refuses it', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: 'pk_test_publishable', STRIPE_WEBHOOK_SECRET: 'secret' })).toEqual([
      expect.stringMatching(/^STRIPE_SECRET_KEY: must be a Stripe secret key/),
      expect.stringMatching(/^STRIPE_WEBHOOK_SECRET: must be a Stripe webhook signing secret/),
    ]);
  });
});

describe('the database connection in production', () => {
  const plain = 'postgresql://mingus:pw@db.internal:5432/mingus';
  const tlsRefusal = expect.stringMatching(
    /^DATABASE_URL: must require TLS in production .*DATABASE_LOCAL_CONNECTION=true/,
  );

  it('when DATABASE_URL asks for no TLS or lets the connection fall back to plain text, refuses it and names the setting for a local connection', () => {
    for (const url of [plain, `${plain}?sslmode=disable`, `${plain}?sslmode=prefer`, `${plain}?sslmode=allow`]) {
      expect(problemsOf({ ...productionEnv, DATABASE_URL: url }), url).toEqual([tlsRefusal]);
    }
  });

  it('when DATABASE_URL requires TLS, accepts it', () => {
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      const url = `${plain}?sslmode=${mode}`;
      expect(load({ ...productionEnv, DATABASE_URL: url }).db.url, mode).toBe(url);
    }
  });

  it('when DATABASE_LOCAL_CONNECTION=true says the connection stays on the machine, accepts a plain one', () => {
    const config = load({ ...productionEnv, DATABASE_URL: plain, DATABASE_LOCAL_CONNECTION: 'true' });
    expect(config.db.url).toBe(plain);
  });

  it('when DATABASE_LOCAL_CONNECTION is not true or false, refuses it', () => {
    expect(problemsOf({ ...productionEnv, DATABASE_LOCAL_CONNECTION: 'yes' })).toEqual([
      'DATABASE_LOCAL_CONNECTION: must be true or false',
    ]);
  });

  it('when outside production, accepts a plain connection to a local database', () => {
    expect(load({ DATABASE_URL: plain }).db.url).toBe(plain);
  });

  it('when nothing is set, connections are replaced after 30 minutes; a bound outside 60 s..24 h is refused', () => {
    expect(load({}).db.maxLifetimeSeconds).toBe(1_800);
    expect(load({ DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: '600' }).db.maxLifetimeSeconds).toBe(600);
    expect(problemsOf({ DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: '10' })).toEqual([
      expect.stringMatching(/^DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: /),
    ]);
  });
});

describe('bank links configuration', () => {
  const plaid = {
    PLAID_CLIENT_ID: '5f1a2b3c4d5e6f7a8b9c0d1e',
    PLAID_SECRET: 'a1b2c3d4e5f60718293a4b5c6d7e8f',
    PLAID_ENV: 'sandbox',
    PLAID_WEBHOOK_URL: 'https://api.example.com/api/v1/webhooks/plaid',
  };

  it('when no PLAID_* variable is set, leaves bank links off', () => {
    expect(load({}).banking).toEqual({ plaid: undefined });
  });

  it('when one PLAID_* variable is set alone, names each other one it needs', () => {
    expect(problemsOf({ PLAID_SECRET: plaid.PLAID_SECRET })).toEqual([
      'PLAID_CLIENT_ID: is required when PLAID_SECRET is set (bank links are all or nothing)',
      'PLAID_ENV: is required when PLAID_SECRET is set (bank links are all or nothing)',
      'PLAID_WEBHOOK_URL: is required when PLAID_SECRET is set (bank links are all or nothing)',
    ]);
    expect(problemsOf({ PLAID_API_URL: 'http://127.0.0.1:9' })).toHaveLength(4);
  });

  it('when complete, passes it through with the country codes (default US)', () => {
    expect(load(plaid).banking.plaid).toEqual({
      clientId: plaid.PLAID_CLIENT_ID,
      secret: plaid.PLAID_SECRET,
      environment: 'sandbox',
      apiUrl: undefined,
      webhookUrl: plaid.PLAID_WEBHOOK_URL,
      countryCodes: ['US'],
    });
    expect(load({ ...plaid, PLAID_COUNTRY_CODES: 'us, ca' }).banking.plaid?.countryCodes).toEqual(['US', 'CA']);
  });

  it('when a value has the wrong shape, refuses it', () => {
    expect(
      problemsOf({ ...plaid, PLAID_ENV: 'development', PLAID_COUNTRY_CODES: 'US,XX', PLAID_SECRET: 'replace-me' }),
    ).toEqual([
      expect.stringMatching(/^PLAID_SECRET: is an example placeholder/),
      expect.stringMatching(/^PLAID_ENV: /),
      expect.stringMatching(/^PLAID_COUNTRY_CODES.*: must list country codes Plaid supports/),
    ]);
  });

  it('when production is given http URLs for Plaid, refuses them', () => {
    const problems = problemsOf({
      ...productionEnv,
      ...plaid,
      PLAID_API_URL: 'http://plaid.internal',
      PLAID_WEBHOOK_URL: 'http://api.example.com/api/v1/webhooks/plaid',
    });
    expect(problems).toEqual([
      'PLAID_API_URL: must use https in production',
      'PLAID_WEBHOOK_URL: must use https in production',
    ]);
  });
});
