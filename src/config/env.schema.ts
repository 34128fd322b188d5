import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/**
 * Placeholder values shipped in `.env.production.example` (`.env.example` leaves its secrets empty, so that a copy of
 * it works in development). Every mode refuses them, so a copied example file cannot go live unedited (a test keeps
 * this list and the example files in step).
 */
export const EXAMPLE_SECRET_VALUES: readonly string[] = [
  'replace-me-with-a-random-health-token-000000',
  'replace-me-with-a-random-jwt-signing-secret-00',
  'replace-me-with-a-random-csrf-signing-secret-0',
  'replace-me-with-a-random-email-hashing-key-000',
];

const MIN_SECRET_BYTES = 32;
/**
 * The lowest bcrypt work factor production accepts. Development and tests may go down to bcrypt's own minimum (4), so
 * a test suite that registers hundreds of accounts does not spend most of its time hashing.
 */
export const MIN_PRODUCTION_BCRYPT_COST = 10;
/** Words the example files use in place of real secrets and passwords. */
export const PLACEHOLDER = /replace-me|change-?me/i;

/** A secret: at least 32 bytes, not an example value, not one character repeated. */
const secret = z
  .string()
  // A value read from a Secret file often ends in a newline; clients trim header values, so it could never match.
  .refine((s) => s === s.trim(), { message: 'has leading or trailing white space', abort: true })
  .refine((s) => Buffer.byteLength(s, 'utf8') >= MIN_SECRET_BYTES, {
    message: `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`,
    abort: true, // one reason per variable is enough
  })
  .refine((s) => !EXAMPLE_SECRET_VALUES.includes(s) && !PLACEHOLDER.test(s), {
    message: 'is an example placeholder; generate a real secret',
    abort: true,
  })
  .refine((s) => new Set(s).size >= 8, { message: 'is too repetitive to be a random secret' });

/** Empty strings count as unset: `FOO=` in an env file must not become a value. */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** `true` or `false`, nothing else (`1`, `yes` and `on` read differently to different people); unset is false. */
const flag = z
  .preprocess(blank, z.enum(['true', 'false'], { message: 'must be true or false' }).optional())
  .transform((v) => v === 'true');

const origin = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s;
    } catch {
      return false;
    }
  },
  { message: 'must be an origin such as https://app.example.com (scheme, host, optional port, no path)' },
);

/**
 * A whole number written in decimal digits. Not `z.coerce.number()`: that reads `PORT=` as 0 (a random port) and
 * `PORT=0x50` as 80.
 */
function wholeNumber(min: number, max: number, fallback: number) {
  return z
    .preprocess(blank, z.string().regex(/^\d+$/, { message: 'must be a whole number in decimal digits' }).optional())
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .pipe(z.number().int().min(min).max(max));
}

const postgresUrl = z
  .string()
  .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: 'must be a postgresql:// URL' })
  .refine((s) => URL.canParse(s), { message: 'is not a valid URL' })
  .refine((s) => !URL.canParse(s) || (new URL(s).hostname !== '' && new URL(s).pathname.length > 1), {
    message: 'must name a host and a database, e.g. postgresql://user:password@host:5432/mingus',
  })
  // The migrations, the migration check and the pool all use the `public` schema; `?schema=` would split them.
  .refine((s) => !URL.canParse(s) || !new URL(s).searchParams.has('schema'), {
    message: 'must not set ?schema= (the service uses the public schema of its own database)',
  });

/** A Sentry DSN: `https://<public key>@<host>/<project id>`; the key is public by design, not a secret. */
const sentryDsn = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.username !== '' && /\/[^/]+$/.test(u.pathname);
    } catch {
      return false;
    }
  },
  { message: 'must be a Sentry DSN such as https://<public key>@o0.ingest.sentry.io/<project id>' },
);

/**
 * Express' `trust proxy`, restricted to what cannot be forged: a hop count, or the addresses/subnets of the proxies
 * (`loopback`, `uniquelocal`, `10.0.0.0/8`, …). `true` (trust every hop) is refused: any client could then choose
 * its own IP with `X-Forwarded-For` and escape the per-IP limits. Empty: trust nothing, the socket address counts.
 */
const trustProxy = z
  .string()
  .default('')
  .transform((s) => s.trim())
  .refine((s) => !/^(true|yes|\*)$/i.test(s), {
    message: 'must not trust every proxy; give a hop count (e.g. 1) or the proxies subnets (e.g. 10.0.0.0/8)',
    abort: true,
  })
  .refine((s) => /^\d{1,2}$/.test(s) || s === '' || isProxyList(s), {
    message:
      'must be a hop count (e.g. 1) or a comma-separated list of addresses, subnets or loopback|linklocal|uniquelocal',
  })
  .transform((s): number | string[] | false =>
    s === '' ? false : /^\d+$/.test(s) ? Number(s) : s.split(',').map((p) => p.trim()),
  );

function isProxyList(s: string): boolean {
  try {
    proxyaddr.compile(s.split(',').map((p) => p.trim()));
    return true;
  } catch {
    return false;
  }
}

/**
 * `FIELD_ENCRYPTION_KEYS`: `id:base64,id:base64` — each key exactly 32 random bytes (AES-256). Every listed key can
 * decrypt; `FIELD_ENCRYPTION_KEY_ID` names the one that encrypts, so a new key is added first, then made current,
 * then `npm run keys:rotate` re-encrypts, and only then the old one is removed (docs/operations.md).
 */
const fieldKeys = z
  .string()
  .refine((s) => !PLACEHOLDER.test(s), { message: 'is an example placeholder; generate real keys', abort: true })
  .transform((s, ctx) => {
    const keys = new Map<string, Buffer>();
    for (const entry of s.split(',').map((e) => e.trim())) {
      const m = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
      const bytes = m ? Buffer.from(m[2] as string, 'base64') : undefined;
      if (!m || !bytes || bytes.length !== 32) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must list keys as id:base64 with exactly 32 bytes each, comma-separated (generate one with: echo "k1:$(openssl rand -base64 32)")',
        });
        return z.NEVER;
      }
      const id = m[1] as string;
      if (keys.has(id)) ctx.addIssue({ code: 'custom', message: `lists key id ${id} twice` });
      if (new Set(bytes).size < 8)
        ctx.addIssue({ code: 'custom', message: `key ${id} is too repetitive to be random` });
      keys.set(id, bytes);
    }
    return keys;
  });

const stripeKey = z
  .string()
  .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/, { message: 'must be a Stripe secret key (sk_live_… or sk_test_…)' });
const stripeWebhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, { message: 'must be a Stripe webhook signing secret (whsec_…)' });
const stripePrice = z.string().regex(/^price_[A-Za-z0-9]{4,}$/, { message: 'must be a Stripe price id (price_…)' });
const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), { message: 'must be an http(s) URL' });

/** Plaid's client id: 24 hexadecimal characters in the dashboard (Team settings → Keys). */
const plaidClientId = z
  .string()
  .regex(/^[A-Za-z0-9]{16,64}$/, { message: 'must be a Plaid client id (the 24 characters of the dashboard)' });
/** Plaid's secrets are 30 characters (one per environment): shorter than our own 32-byte floor, so checked apart. */
const plaidSecret = z
  .string()
  .refine((s) => !PLACEHOLDER.test(s), { message: 'is an example placeholder; copy the real secret', abort: true })
  .regex(/^[A-Za-z0-9]{20,128}$/, { message: 'must be a Plaid secret (the 30 characters of the dashboard)' });
/**
 * ISO 3166-1 alpha-2 codes Plaid Link can show institutions of (its `CountryCode` enum); a comma-separated list.
 */
export const PLAID_COUNTRIES = [
  'US',
  'GB',
  'ES',
  'NL',
  'FR',
  'IE',
  'CA',
  'DE',
  'IT',
  'PL',
  'DK',
  'NO',
  'SE',
  'EE',
  'LT',
  'LV',
  'PT',
  'BE',
  'AT',
  'FI',
] as const;
export type PlaidCountry = (typeof PLAID_COUNTRIES)[number];
const plaidCountries = z
  .string()
  .default('US')
  .transform((s) =>
    s
      .split(',')
      .map((c) => c.trim().toUpperCase())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.enum(PLAID_COUNTRIES, { message: `must list country codes Plaid supports (${PLAID_COUNTRIES.join(', ')})` }),
      )
      .min(1, { message: 'must list at least one country code' }),
  );
/** The web app's base URL: http(s), no query or fragment (a link's fragment is appended to it). */
const appUrl = httpUrl.refine((s) => !URL.canParse(s) || (new URL(s).search === '' && new URL(s).hash === ''), {
  message: 'must be a base URL without a query or fragment, such as https://app.example.com',
});

const smtpUrl = z.string().refine((s) => /^smtps?:\/\//.test(s) && URL.canParse(s), {
  message: 'must be an smtp:// or smtps:// URL',
});
/** `no-reply@example.com` or `Mingus <no-reply@example.com>`. */
const mailFrom = z
  .string()
  .max(320)
  .regex(/^(?:[^<>\r\n]{1,100} <[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/, {
    message: 'must be an address (no-reply@example.com) or a name and an address (Mingus <no-reply@example.com>)',
  });
/** The private half of a P-256 VAPID key pair, as web-push's `generateVAPIDKeys()` prints it (32 bytes, base64url). */
const vapidPrivateKey = z
  .string()
  .refine((s) => !PLACEHOLDER.test(s), {
    message: 'is an example placeholder; generate a key pair with: npx web-push generate-vapid-keys',
    abort: true,
  })
  .regex(/^[A-Za-z0-9_-]{43}$/, { message: 'must be a VAPID private key: 32 bytes in base64url (43 characters)' });
/** Who the push services may contact about our pushes (RFC 8292). */
const vapidSubject = z.string().refine((s) => /^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(s), {
  message: 'must be a mailto: address or an https:// URL',
});

const redisUrl = z
  .string()
  .refine((s) => /^rediss?:\/\//.test(s) && URL.canParse(s), { message: 'must be a redis:// or rediss:// URL' });

/**
 * The process environment as the service reads it: one schema, parsed once at start (src/config/config.ts).
 * Every variable here is documented in `.env.example`, `.env.production.example` and `docs/configuration.md`;
 * tests fail when they disagree.
 */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: wholeNumber(0, 65535, 3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.preprocess(blank, postgresUrl.optional()),
  DATABASE_POOL_MAX: wholeNumber(1, 100, 10),
  DATABASE_STATEMENT_TIMEOUT_MS: wholeNumber(100, 600_000, 5_000),
  DATABASE_CONNECTION_WAIT_MS: wholeNumber(50, 60_000, 1_000),
  DATABASE_CONNECTION_MAX_LIFETIME_SECONDS: wholeNumber(60, 86_400, 1_800),
  DATABASE_LOCAL_CONNECTION: flag,
  REDIS_URL: z.preprocess(blank, redisUrl.optional()),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'must be 1-64 of A-Z a-z 0-9 : _ -' })
    .default('mingus:'),
  REDIS_COMMAND_TIMEOUT_MS: wholeNumber(10, 10_000, 200),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(origin)),
  HEALTH_TOKEN: z.preprocess(blank, secret.optional()),
  METRICS_TOKEN: z.preprocess(blank, secret.optional()),
  JWT_SECRET: z.preprocess(blank, secret.optional()),
  JWT_ISSUER: z.string().min(1).max(200).default('mingus-api'),
  JWT_AUDIENCE: z.string().min(1).max(200).default('mingus-clients'),
  REFRESH_TOKEN_TTL_DAYS: wholeNumber(1, 365, 30),
  SESSION_MAX_DAYS: wholeNumber(1, 3650, 90),
  CSRF_SECRET: z.preprocess(blank, secret.optional()),
  EMAIL_HASH_KEY: z.preprocess(blank, secret.optional()),
  // bcrypt's own floor is 4; production refuses anything below MIN_PRODUCTION_BCRYPT_COST (config.ts).
  BCRYPT_COST: wholeNumber(4, 15, 12),
  TRUST_PROXY: trustProxy,
  RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000, 100),
  AUTH_RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000, 5),
  REGISTER_RATE_LIMIT_PER_HOUR: wholeNumber(1, 1_000_000, 3),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000, 1000),
  LOGIN_LOCKOUT_THRESHOLD: wholeNumber(1, 1_000_000, 5),
  LOGIN_ACCOUNT_THRESHOLD: wholeNumber(1, 1_000_000, 50),
  LOGIN_LOCKOUT_MINUTES: wholeNumber(1, 1440, 15),
  FIELD_ENCRYPTION_KEYS: z.preprocess(blank, fieldKeys.optional()),
  FIELD_ENCRYPTION_KEY_ID: z.preprocess(
    blank,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, { message: 'must be a key id of FIELD_ENCRYPTION_KEYS' })
      .optional(),
  ),
  AUDIT_LOG_RETENTION_DAYS: wholeNumber(1, 3650, 90),
  STRIPE_SECRET_KEY: z.preprocess(blank, stripeKey.optional()),
  STRIPE_WEBHOOK_SECRET: z.preprocess(blank, stripeWebhookSecret.optional()),
  STRIPE_PRICE_BUDGET: z.preprocess(blank, stripePrice.optional()),
  STRIPE_PRICE_MID_TIER: z.preprocess(blank, stripePrice.optional()),
  STRIPE_PRICE_PROFESSIONAL: z.preprocess(blank, stripePrice.optional()),
  STRIPE_API_URL: z.preprocess(blank, httpUrl.optional()),
  BILLING_SUCCESS_URL: z.preprocess(blank, httpUrl.optional()),
  BILLING_CANCEL_URL: z.preprocess(blank, httpUrl.optional()),
  BILLING_PORTAL_RETURN_URL: z.preprocess(blank, httpUrl.optional()),
  BILLING_GRACE_DAYS: wholeNumber(0, 30, 3),
  PLAID_CLIENT_ID: z.preprocess(blank, plaidClientId.optional()),
  PLAID_SECRET: z.preprocess(blank, plaidSecret.optional()),
  PLAID_ENV: z.preprocess(blank, z.enum(['sandbox', 'production']).optional()),
  PLAID_API_URL: z.preprocess(blank, httpUrl.optional()),
  PLAID_WEBHOOK_URL: z.preprocess(blank, httpUrl.optional()),
  PLAID_COUNTRY_CODES: z.preprocess(blank, plaidCountries),
  SENTRY_DSN: z.preprocess(blank, sentryDsn.optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(blank, httpUrl.optional()),
  OTEL_TRACES_SAMPLE_RATIO: z
    .preprocess(
      blank,
      z
        .string()
        .regex(/^(0|1)(\.\d{1,6})?$/, { message: 'must be a ratio from 0 to 1' })
        .optional(),
    )
    .transform((v) => (v === undefined ? 1 : Number(v)))
    .pipe(
      z.number().min(0, { message: 'must be a ratio from 0 to 1' }).max(1, { message: 'must be a ratio from 0 to 1' }),
    ),
  SENTRY_ENVIRONMENT: z.preprocess(blank, z.string().max(64).optional()),
  SENTRY_RELEASE: z.preprocess(blank, z.string().max(200).optional()),
  APP_VERSION: z.preprocess(blank, z.string().max(64).optional()),
  WEB_CONCURRENCY: wholeNumber(1, 64, 1),
  HTTP_MAX_IN_FLIGHT: wholeNumber(1, 10_000, 64),
  WORKER_CONCURRENCY: wholeNumber(1, 100, 5),
  JOB_RETRY_DELAY_MS: wholeNumber(10, 3_600_000, 30_000),
  WORKER_PORT: wholeNumber(0, 65535, 3001),
  SMTP_URL: z.preprocess(blank, smtpUrl.optional()),
  MAIL_FROM: z.preprocess(blank, mailFrom.optional()),
  APP_URL: z.preprocess(blank, appUrl.optional()),
  VAPID_PRIVATE_KEY: z.preprocess(blank, vapidPrivateKey.optional()),
  VAPID_SUBJECT: z.preprocess(blank, vapidSubject.optional()),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(1000, 120_000, 10_000),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres'),
});

export type Env = z.infer<typeof EnvSchema>;

/** With STRIPE_SECRET_KEY set, billing needs all of these (in every mode): half a billing setup is refused. */
export const REQUIRED_FOR_BILLING = [
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_PRICE_BUDGET',
  'STRIPE_PRICE_MID_TIER',
  'STRIPE_PRICE_PROFESSIONAL',
  'BILLING_SUCCESS_URL',
  'BILLING_CANCEL_URL',
] as const satisfies readonly (keyof Env)[];

/**
 * Bank links are all or nothing too: any one of these set makes every one of them required (in every mode), so that
 * half a Plaid setup — a secret without its webhook URL, say — is refused at start rather than failing a user later.
 * `PLAID_API_URL` (another Plaid-compatible server) and `PLAID_COUNTRY_CODES` (default US) stay optional.
 */
export const REQUIRED_FOR_BANKING = [
  'PLAID_CLIENT_ID',
  'PLAID_SECRET',
  'PLAID_ENV',
  'PLAID_WEBHOOK_URL',
] as const satisfies readonly (keyof Env)[];

/** Secret variables: production refuses any value given to two of them (one leak must not open the others). */
export const SECRET_VARIABLES = [
  'HEALTH_TOKEN',
  'METRICS_TOKEN',
  'JWT_SECRET',
  'CSRF_SECRET',
  'EMAIL_HASH_KEY',
  'FIELD_ENCRYPTION_KEYS',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'PLAID_SECRET',
  'VAPID_PRIVATE_KEY',
] as const satisfies readonly (keyof Env)[];

/** Variables production cannot run without, with the reason shown to the operator. */
export const REQUIRED_IN_PRODUCTION = {
  DATABASE_URL: 'the embedded PostgreSQL is for development only',
  REDIS_URL: 'rate limits and sessions need a shared store across instances',
  CORS_ORIGINS: 'browsers may only call the API from the listed web origins',
  HEALTH_TOKEN: 'operators need /health/detailed; it is protected by this token',
  JWT_SECRET: 'access tokens are signed with it',
  CSRF_SECRET: 'web sessions sign their CSRF tokens with it',
  EMAIL_HASH_KEY: 'audit entries and limit keys hold emails only as an HMAC under this key',
  FIELD_ENCRYPTION_KEYS: 'income, debts, notes and answers are encrypted with these keys',
  FIELD_ENCRYPTION_KEY_ID: 'names the key of FIELD_ENCRYPTION_KEYS that encrypts new values',
  SMTP_URL: 'reminders are sent by email through this server',
  MAIL_FROM: 'every email needs a sender the SMTP server accepts',
  APP_URL: 'password-reset and verification emails link to the web app at this address',
  VAPID_PRIVATE_KEY: 'push reminders are signed with it (web-push generate-vapid-keys)',
  VAPID_SUBJECT: 'push services need a contact for the sender of pushes',
} as const satisfies Partial<Record<keyof Env, string>>;
