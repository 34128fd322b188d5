import { createECDH } from 'node:crypto';
import path from 'node:path';
import type { z } from 'zod';
import { type DevSecretName, loadDevSecrets } from './dev-secrets.js';
import {
  type Env,
  EnvSchema,
  MIN_PRODUCTION_BCRYPT_COST,
  PLACEHOLDER,
  REQUIRED_FOR_BANKING,
  REQUIRED_FOR_BILLING,
  REQUIRED_IN_PRODUCTION,
  SECRET_VARIABLES,
} from './env.schema.js';
import { withEnvFile } from './env-file.js';

export type Config = ReturnType<typeof buildConfig>;

/** Thrown at start when the environment cannot run the service; its message lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Directory that holds `.data/` (dev secrets, embedded PostgreSQL) and `.env`; the repository root in practice. */
  rootDir: string;
  /** Version reported by /health; APP_VERSION overrides it (the image tag, say). */
  packageVersion: string;
}

/**
 * The only reader of the process environment (and, in development, of `.env`): parse, check production rules, fill
 * development defaults.
 */
export function loadConfig(processEnv: NodeJS.ProcessEnv, options: LoadConfigOptions): Config {
  const envFile = withEnvFile(processEnv, options.rootDir);
  if (envFile.problems.length > 0) throw new ConfigError(envFile.problems);
  const rawEnv = envFile.env;
  const parsed = EnvSchema.safeParse(rawEnv);
  const problems = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  const env = parsed.success ? parsed.data : undefined;
  const production = (rawEnv.NODE_ENV ?? 'development') === 'production';

  if (production) problems.push(...productionProblems(rawEnv));
  if (env)
    problems.push(...billingProblems(env, production), ...bankingProblems(env, production), ...fieldKeyProblems(env));
  if (problems.length > 0 || !env) throw new ConfigError(problems.map((p) => withSource(p, envFile.fromFile)));

  const dataDir = path.join(options.rootDir, '.data');
  const devSecrets = production
    ? undefined
    : loadDevSecrets(dataDir, {
        HEALTH_TOKEN: env.HEALTH_TOKEN,
        JWT_SECRET: env.JWT_SECRET,
        CSRF_SECRET: env.CSRF_SECRET,
        EMAIL_HASH_KEY: env.EMAIL_HASH_KEY,
        FIELD_ENCRYPTION_KEYS: env.FIELD_ENCRYPTION_KEYS ? 'given' : undefined,
      });
  return buildConfig(env, { ...options, dataDir, devSecrets, envFile: envFile.file });
}

function buildConfig(
  env: Env,
  ctx: LoadConfigOptions & {
    dataDir: string;
    devSecrets: Record<DevSecretName, string> | undefined;
    envFile: string | undefined;
  },
) {
  const production = env.NODE_ENV === 'production';
  const version = env.APP_VERSION ?? ctx.packageVersion;
  return {
    env: env.NODE_ENV,
    production,
    version,
    /** The `.env` whose development overrides were applied, if any. */
    envFile: ctx.envFile,
    http: {
      port: env.PORT,
      host: env.HOST,
      bodyLimitBytes: 100 * 1024,
      corsOrigins: env.CORS_ORIGINS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      /** Worker processes (node:cluster); 1 serves from the main process itself. */
      workers: env.WEB_CONCURRENCY,
      /** Requests running the application at once, per process; the others wait their turn (http/admission.ts). */
      maxInFlight: env.HTTP_MAX_IN_FLIGHT,
    },
    log: { level: env.LOG_LEVEL },
    db: {
      /** Unset outside production: main.ts starts an embedded PostgreSQL and fills this in. */
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      /** The longest a statement of a request may run (on the server, and waited for by the client). */
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      /** The longest a request waits for a pooled connection, or for a new one to open. */
      connectionWaitMs: env.DATABASE_CONNECTION_WAIT_MS,
      /** A connection is closed and replaced once this old (pg's `maxLifetimeSeconds`), between queries. */
      maxLifetimeSeconds: env.DATABASE_CONNECTION_MAX_LIFETIME_SECONDS,
      embeddedDir: path.resolve(ctx.rootDir, env.EMBEDDED_POSTGRES_DIR),
      migrationsDir: path.join(ctx.rootDir, 'prisma', 'migrations'),
    },
    /** `keyPrefix` namespaces every key the service writes (rate limits, sessions, lockouts). */
    redis: {
      url: env.REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      /** How long a command may go unanswered before the request takes its fallback (redis-guard.ts). */
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    },
    /** Express' `trust proxy`: false (the socket address), a hop count, or the proxies' addresses. */
    trustProxy: env.TRUST_PROXY,
    auth: {
      // Production has them (required); elsewhere the generated development secrets fill in.
      jwtSecret: env.JWT_SECRET ?? requireDevSecret(ctx.devSecrets, 'JWT_SECRET'),
      csrfSecret: env.CSRF_SECRET ?? requireDevSecret(ctx.devSecrets, 'CSRF_SECRET'),
      /** Keys the HMAC that stands for an email in audit entries and Redis keys (platform/email-hash.ts). */
      emailHashKey: env.EMAIL_HASH_KEY ?? requireDevSecret(ctx.devSecrets, 'EMAIL_HASH_KEY'),
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: 15 * 60,
      refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
      /** A session ends this long after its sign-in, however often it is refreshed. */
      sessionMaxDays: env.SESSION_MAX_DAYS,
      bcryptCost: env.BCRYPT_COST,
    },
    limits: {
      perMinute: env.RATE_LIMIT_PER_MINUTE,
      authPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
      registerPerHour: env.REGISTER_RATE_LIMIT_PER_HOUR,
      webhookPerMinute: env.WEBHOOK_RATE_LIMIT_PER_MINUTE,
      lockoutThreshold: env.LOGIN_LOCKOUT_THRESHOLD,
      lockoutAccountThreshold: env.LOGIN_ACCOUNT_THRESHOLD,
      lockoutMinutes: env.LOGIN_LOCKOUT_MINUTES,
    },
    fieldEncryption: fieldEncryptionConfig(env, ctx.devSecrets),
    /** Audit rows older than this are purged by `npm run maintenance`. */
    audit: { retentionDays: env.AUDIT_LOG_RETENTION_DAYS },
    billing: {
      /** `past_due` subscriptions keep their plan's features this long. */
      graceDays: env.BILLING_GRACE_DAYS,
      /** Absent: billing is not configured and its routes answer 503 (loadConfig refuses half a setup). */
      stripe: env.STRIPE_SECRET_KEY
        ? {
            secretKey: env.STRIPE_SECRET_KEY,
            webhookSecret: env.STRIPE_WEBHOOK_SECRET as string,
            /** Another Stripe-compatible server (stripe-mock, the tests' local one); absent: api.stripe.com. */
            apiUrl: env.STRIPE_API_URL,
            prices: {
              budget: env.STRIPE_PRICE_BUDGET as string,
              mid_tier: env.STRIPE_PRICE_MID_TIER as string,
              professional: env.STRIPE_PRICE_PROFESSIONAL as string,
            },
            successUrl: env.BILLING_SUCCESS_URL as string,
            cancelUrl: env.BILLING_CANCEL_URL as string,
            portalReturnUrl: env.BILLING_PORTAL_RETURN_URL ?? (env.BILLING_SUCCESS_URL as string),
          }
        : undefined,
    },
    /** Bank links (Plaid). Absent: not configured, and `/banking/*` and the Plaid webhook answer 503. */
    banking: {
      plaid: env.PLAID_CLIENT_ID
        ? {
            clientId: env.PLAID_CLIENT_ID,
            secret: env.PLAID_SECRET as string,
            environment: env.PLAID_ENV as 'sandbox' | 'production',
            /** Another Plaid-compatible server (the tests' local one); absent: Plaid's host for `environment`. */
            apiUrl: env.PLAID_API_URL,
            /** Where Plaid sends this service's webhooks: `https://<api host>/api/v1/webhooks/plaid`. */
            webhookUrl: env.PLAID_WEBHOOK_URL as string,
            countryCodes: env.PLAID_COUNTRY_CODES,
          }
        : undefined,
    },
    /** Email: SMTP in production (required); without SMTP_URL elsewhere, .eml files in `<data>/outbox`. */
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? DEV_MAIL_FROM,
      outboxDir: path.join(ctx.dataDir, 'outbox'),
    },
    /**
     * The web app's base URL, which account emails link to (`<APP_URL>/reset-password#token=…`). Required in
     * production; elsewhere the first CORS origin, else the development web app.
     */
    appUrl: env.APP_URL ?? env.CORS_ORIGINS[0] ?? DEV_APP_URL,
    /** Web Push (VAPID, RFC 8292): the public key is derived from the private one and handed to clients. */
    push: vapidConfig(env, ctx.devSecrets),
    /** The job worker (`npm run worker`, or in-process under `npm start` in development). */
    jobs: {
      concurrency: env.WORKER_CONCURRENCY,
      probePort: env.WORKER_PORT,
      /** A failed job's first retry waits this long; each next one twice as long (five attempts in all). */
      retryDelayMs: env.JOB_RETRY_DELAY_MS,
    },
    health: { token: env.HEALTH_TOKEN ?? ctx.devSecrets?.HEALTH_TOKEN },
    /** No token, no `/metrics` (404): unlike HEALTH_TOKEN, development does not generate one. */
    metrics: { token: env.METRICS_TOKEN },
    /** No DSN, no Sentry: the SDK is not even loaded. */
    sentry: {
      dsn: env.SENTRY_DSN,
      environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
      release: env.SENTRY_RELEASE ?? version,
    },
    /** No endpoint, no traces: OpenTelemetry is not even loaded (platform/telemetry.ts). */
    telemetry: {
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      sampleRatio: env.OTEL_TRACES_SAMPLE_RATIO,
      environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
    },
    paths: { root: ctx.rootDir, data: ctx.dataDir },
  };
}

/** Rules that hold in production only; read from the raw values so they are reported even when parsing failed. */
function productionProblems(rawEnv: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const [name, why] of Object.entries(REQUIRED_IN_PRODUCTION)) {
    // `CORS_ORIGINS=" , "` is set but lists nothing.
    if (!rawEnv[name]?.replaceAll(',', '').trim()) problems.push(`${name}: is required in production (${why})`);
  }
  // One leaked secret must not open the others: Prometheus' configuration holds the metrics token, and it must open
  // neither /health/detailed nor sign access tokens; signing keys must not double as bearer tokens.
  const secrets = secretValues(rawEnv);
  for (const [i, secret] of secrets.entries()) {
    const first = secrets
      .slice(0, i)
      .find((earlier) => earlier.value === secret.value && earlier.group !== secret.group);
    if (first) problems.push(`${secret.name}: must differ from ${first.name}`);
  }
  const tls = databaseTlsProblem(rawEnv);
  if (tls) problems.push(tls);
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL'] as const) {
    if (hasPlaceholderPassword(rawEnv[name])) problems.push(`${name}: its password is an example placeholder`);
  }
  if (rawEnv.APP_URL?.trim().startsWith('http://')) problems.push('APP_URL: must use https in production');
  for (const origin of (rawEnv.CORS_ORIGINS ?? '').split(',').map((o) => o.trim())) {
    if (origin.startsWith('http://')) problems.push(`CORS_ORIGINS: ${origin} must use https in production`);
  }
  // A value that is not a whole number is reported by the schema; only a readable, too low one is reported here.
  const bcryptCost = rawEnv.BCRYPT_COST ?? '';
  if (/^\d+$/.test(bcryptCost) && Number(bcryptCost) < MIN_PRODUCTION_BCRYPT_COST) {
    problems.push(`BCRYPT_COST: must be at least ${MIN_PRODUCTION_BCRYPT_COST} in production`);
  }
  return problems;
}

/** The `sslmode` values with which the client refuses a connection that is not encrypted. */
const TLS_SSLMODES = ['require', 'verify-ca', 'verify-full'];

/**
 * In production the database connection carries personal data and the password: it must be encrypted, unless the
 * operator says it never leaves the machine or pod (a sidecar proxy that itself speaks TLS, Compose's own container).
 */
function databaseTlsProblem(rawEnv: NodeJS.ProcessEnv): string | undefined {
  const url = rawEnv.DATABASE_URL?.trim();
  // A URL that is not PostgreSQL's is reported by the schema.
  if (!url || !/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) return undefined;
  if (rawEnv.DATABASE_LOCAL_CONNECTION?.trim() === 'true') return undefined;
  const sslmode = new URL(url).searchParams.get('sslmode');
  if (sslmode && TLS_SSLMODES.includes(sslmode)) return undefined;
  return `DATABASE_URL: must require TLS in production (add ?sslmode=verify-full, or ${TLS_SSLMODES.slice(0, 2).join(' or ')}; ${sslmode ? `sslmode=${sslmode} allows a plain connection` : 'it sets no sslmode'}), or set DATABASE_LOCAL_CONNECTION=true if the connection never leaves the machine or pod (a sidecar proxy)`;
}

/**
 * Every secret that is set. Each key of FIELD_ENCRYPTION_KEYS counts as one (`FIELD_ENCRYPTION_KEYS k1`), in one
 * group: the same key under two ids is how a key id is renamed, not a reuse.
 */
function secretValues(rawEnv: NodeJS.ProcessEnv) {
  const secrets: Array<{ name: string; value: string; group: string }> = SECRET_VARIABLES.filter(
    (name) => name !== 'FIELD_ENCRYPTION_KEYS',
  ).map((name) => ({
    name,
    value: rawEnv[name]?.trim() ?? '',
    group: name,
  }));
  for (const entry of (rawEnv.FIELD_ENCRYPTION_KEYS ?? '').split(',')) {
    const [id, key] = entry.split(':').map((part) => part.trim());
    if (id && key) secrets.push({ name: `FIELD_ENCRYPTION_KEYS ${id}`, value: key, group: 'FIELD_ENCRYPTION_KEYS' });
  }
  return secrets.filter((secret) => secret.value !== '');
}

/** Says which problems come from `.env`, where the person must look for them. */
function withSource(problem: string, fromFile: ReadonlySet<string>): string {
  const name = /^([A-Z][A-Z0-9_]*):/.exec(problem)?.[1];
  return name && fromFile.has(name) ? `${problem} (set in .env)` : problem;
}

const DEV_APP_URL = 'http://localhost:5173';
const DEV_MAIL_FROM = 'Mingus <no-reply@mingus.localhost>';
const DEV_VAPID_SUBJECT = 'mailto:dev@mingus.localhost';

function vapidConfig(env: Env, devSecrets: Record<DevSecretName, string> | undefined) {
  const privateKey = env.VAPID_PRIVATE_KEY ?? requireDevSecret(devSecrets, 'VAPID_PRIVATE_KEY');
  const pair = createECDH('prime256v1');
  try {
    pair.setPrivateKey(Buffer.from(privateKey, 'base64url'));
  } catch {
    throw new ConfigError(['VAPID_PRIVATE_KEY: is not a P-256 private key']);
  }
  return { privateKey, publicKey: pair.getPublicKey('base64url'), subject: env.VAPID_SUBJECT ?? DEV_VAPID_SUBJECT };
}

/** The keys that decrypt, and the id of the one that encrypts. */
function fieldEncryptionConfig(env: Env, devSecrets: Record<DevSecretName, string> | undefined) {
  const keys = env.FIELD_ENCRYPTION_KEYS ?? parseDevFieldKeys(requireDevSecret(devSecrets, 'FIELD_ENCRYPTION_KEYS'));
  const currentKeyId = env.FIELD_ENCRYPTION_KEY_ID ?? [...keys.keys()][0];
  if (!currentKeyId || !keys.has(currentKeyId)) throw new ConfigError(['FIELD_ENCRYPTION_KEY_ID: is not a listed key']);
  return { keys, currentKeyId };
}

function parseDevFieldKeys(value: string): Map<string, Buffer> {
  const parsed = EnvSchema.shape.FIELD_ENCRYPTION_KEYS.safeParse(value);
  if (!parsed.success || !parsed.data)
    throw new ConfigError(['FIELD_ENCRYPTION_KEYS: .data/dev-secrets.json holds an invalid value']);
  return parsed.data;
}

/** The current key must be one that is listed; with several keys, which one encrypts must be said. */
function fieldKeyProblems(env: Env): string[] {
  const keys = env.FIELD_ENCRYPTION_KEYS;
  const id = env.FIELD_ENCRYPTION_KEY_ID;
  if (keys && id && !keys.has(id)) {
    return [
      `FIELD_ENCRYPTION_KEY_ID: ${id} is not one of the keys of FIELD_ENCRYPTION_KEYS (${[...keys.keys()].join(', ')})`,
    ];
  }
  if (keys && !id && keys.size > 1) {
    return ['FIELD_ENCRYPTION_KEY_ID: is required when FIELD_ENCRYPTION_KEYS lists more than one key'];
  }
  if (!keys && id) return ['FIELD_ENCRYPTION_KEY_ID: is set but FIELD_ENCRYPTION_KEYS is not'];
  return [];
}

/** Billing is all or nothing: a secret key without its webhook secret or prices would half work. */
function billingProblems(env: Env, production: boolean): string[] {
  if (!env.STRIPE_SECRET_KEY) return [];
  const problems = REQUIRED_FOR_BILLING.filter((name) => !env[name]).map(
    (name) => `${name}: is required when STRIPE_SECRET_KEY is set (billing is all or nothing)`,
  );
  if (production) {
    for (const name of [
      'STRIPE_API_URL',
      'BILLING_SUCCESS_URL',
      'BILLING_CANCEL_URL',
      'BILLING_PORTAL_RETURN_URL',
    ] as const) {
      if (env[name]?.startsWith('http://')) problems.push(`${name}: must use https in production`);
    }
  }
  return problems;
}

/** Bank links are all or nothing: any PLAID_* setting (but the country codes) asks for the whole set. */
function bankingProblems(env: Env, production: boolean): string[] {
  const given = [...REQUIRED_FOR_BANKING, 'PLAID_API_URL' as const].filter((name) => env[name] !== undefined);
  if (given.length === 0) return [];
  const problems = REQUIRED_FOR_BANKING.filter((name) => env[name] === undefined).map(
    (name) => `${name}: is required when ${given[0]} is set (bank links are all or nothing)`,
  );
  if (production) {
    for (const name of ['PLAID_API_URL', 'PLAID_WEBHOOK_URL'] as const) {
      if (env[name]?.startsWith('http://')) problems.push(`${name}: must use https in production`);
    }
  }
  return problems;
}

function requireDevSecret(devSecrets: Record<DevSecretName, string> | undefined, name: DevSecretName): string {
  const value = devSecrets?.[name];
  // Unreachable: production requires the variable, and every other mode loads the development secrets.
  if (!value) throw new ConfigError([`${name}: is required`]);
  return value;
}

function hasPlaceholderPassword(url: string | undefined): boolean {
  if (!url || !URL.canParse(url)) return false;
  const { password } = new URL(url);
  try {
    return PLACEHOLDER.test(decodeURIComponent(password));
  } catch {
    return PLACEHOLDER.test(password); // a malformed %-escape: the schema's own checks report the URL
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.') || '(environment)';
  return `${name}: ${issue.message}`;
}
