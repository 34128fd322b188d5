/**
 * The servers under load, in a process of their own so that autocannon (bench/run.ts) does not share their event
 * loop: the real application wired as in production, and the baselines. Prints one JSON line with their ports
 * once they serve; on SIGTERM, SIGINT or the end of stdin (the runner died), closes everything and drops its database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import type { Express } from 'express';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { accessTokenContext } from '../src/modules/banking/banking.service.js';
import { createFieldCipher, fieldContext } from '../src/platform/crypto.js';
import { createDatabase } from '../src/platform/db.js';
import { startEmbeddedPostgres } from '../src/platform/embedded-postgres.js';
import { closeServer, listen } from '../src/platform/http-server.js';
import { createLifecycle } from '../src/platform/lifecycle.js';
import { createLogger, type Logger } from '../src/platform/logger.js';
import { applyMigrations } from '../src/platform/migrations.js';
import { closeRedis, createRedis, type RedisClient } from '../src/platform/redis.js';
import { plaidEnv } from '../test/support/plaid-server.js';
import { type BaselineContext, type BaselineName, baselines, SERVED_LIKE_THE_APP } from './baselines.js';
import { NO_MAIL_SMTP_URL, NO_PLAID_URL, productionEnv } from './production-env.js';

export interface ServersReady {
  app: number;
  baselines: Record<BaselineName, number>;
  log: string;
  versions: { postgres: string; redis: string };
  /** BENCH_SETTINGS: what the app's configuration changes from production's defaults. */
  settings: Record<string, string>;
  /** DATABASE_POOL_MAX: the size of the app's pool, and of the baseline's. */
  poolMax: number;
  /** An account registered through the app's own route, for the scenarios that sign in. */
  account: { email: string; password: string };
  /** The bench's database and Redis, for the scenarios that run processes of their own (bench/reminders.ts). */
  databaseUrl: string;
  redis: { url: string; keyPrefix: string };
}

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const LOG_FILE = path.join(RESULTS_DIR, 'app.log');
const DEFAULT_PG = 'postgresql://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/**
 * Production settings that the bench changes. The abuse limits are raised to the highest value the configuration
 * accepts, so that the bench measures the routes and not the limiters refusing them: the limiters still run and count
 * in Redis on every request. bcrypt runs at production's default cost (12), the one users meet; the login baseline uses
 * the same cost. (At a lower cost a login's fixed bookkeeping would weigh more against bcrypt than it does for users:
 * docs/performance.md.)
 */
const BENCH_SETTINGS = {
  BCRYPT_COST: '12',
  RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
  REGISTER_RATE_LIMIT_PER_HOUR: '1000000',
  LOGIN_LOCKOUT_THRESHOLD: '1000000',
};

/** Undone in reverse order at exit, whether startup finished or not. */
const cleanup: Array<() => Promise<void>> = [];

async function start(logger: Logger): Promise<ServersReady> {
  const serverUrl = await postgresServer(logger);
  const database = `mingus_bench_${process.pid}_${Date.now().toString(36)}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${database}`));
  cleanup.push(async () => {
    await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });
  const databaseUrl = withDatabase(serverUrl, database);
  await applyMigrations(databaseUrl, ROOT);

  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const config = loadConfig(
    {
      ...productionEnv(),
      // Bank links configured, or the banking routes answer 503. The reads measured never call Plaid: its URL is
      // `.invalid` (production requires https), so a call would fail loudly rather than leave the machine.
      ...plaidEnv({ url: NO_PLAID_URL }),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? DEFAULT_REDIS,
      // Its own keys: the bench's counters (its account's registrations among them) must not reach the limits of a
      // development server sharing this Redis under the default prefix.
      REDIS_KEY_PREFIX: `mingus-bench-${process.pid}:`,
      // The API sends no mail (the job workers do, in the reminders scenario, to the bench's own SMTP server).
      SMTP_URL: NO_MAIL_SMTP_URL,
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      ...BENCH_SETTINGS,
    },
    { rootDir: ROOT, packageVersion: pkg.version },
  );
  const redisUrl = config.redis.url ?? DEFAULT_REDIS;

  const db = createDatabase({
    url: databaseUrl,
    poolMax: config.db.poolMax,
    logger,
    timeouts: { statementMs: config.db.statementTimeoutMs, connectionWaitMs: config.db.connectionWaitMs },
  });
  cleanup.push(() => db.close());
  const redis = createRedis({ url: redisUrl, logger });
  cleanup.push(() => closeRedis(redis));
  cleanup.push(() => deleteKeys(redis, config.redis.keyPrefix));
  await redisReady(redis, redisUrl);

  const lifecycle = createLifecycle();
  const app = createApp({ config, logger, db, redis, lifecycle });
  cleanup.push(async () => app.close());
  // Migrations were applied above: the state main.ts reaches once it has verified them.
  lifecycle.markStarted();
  const appServer = await serve(listen(app, config.http.port, config.http.host));
  const account = await registerAccount(`http://127.0.0.1:${port(appServer)}`);
  await seedAccount(`http://127.0.0.1:${port(appServer)}`, account, db, config, databaseUrl);

  const baselinePool = new pg.Pool({ connectionString: databaseUrl, max: config.db.poolMax });
  cleanup.push(() => baselinePool.end());
  const context: BaselineContext = {
    pool: baselinePool,
    jwt: { secret: config.auth.jwtSecret, issuer: config.auth.issuer, audience: config.auth.audience },
    passwordHash: await bcrypt.hash(account.password, config.auth.bcryptCost),
    baselineUserId: (
      await db.pool.query<{ id: string }>(
        `INSERT INTO users (email, password_hash) VALUES ('bench-baseline@example.com', 'not a hash') RETURNING id`,
      )
    ).rows[0]?.id as string,
  };
  const ports: Partial<Record<BaselineName, number>> = {};
  for (const name of Object.keys(baselines) as BaselineName[]) {
    const baseline = baselines[name](context);
    ports[name] = port(
      await serve(SERVED_LIKE_THE_APP.has(name) ? listen(baseline, 0, '127.0.0.1') : listenBare(baseline)),
    );
  }
  const versions = {
    postgres: (await db.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?',
    redis: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?',
  };
  return {
    app: port(appServer),
    baselines: ports as Record<BaselineName, number>,
    log: LOG_FILE,
    versions,
    settings: BENCH_SETTINGS,
    poolMax: config.db.poolMax,
    account,
    databaseUrl,
    redis: { url: redisUrl, keyPrefix: config.redis.keyPrefix },
  };
}

/** Registers the bench account through POST /api/v1/auth/register, as a client would. */
async function registerAccount(appUrl: string): Promise<ServersReady['account']> {
  const account = { email: 'bench@example.com', password: randomBytes(24).toString('base64url') };
  const res = await fetch(`${appUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...account, name: 'Bench' }),
  });
  if (res.status !== 201) throw new Error(`registering the bench account answered ${res.status}: ${await res.text()}`);
  return account;
}

/**
 * Gives the bench account a profile (through PUT /api/v1/profile) and 2,000 check-ins dated 1900–1905 with
 * encrypted notes (inserted in one statement: 2,000 requests would only slow the start), so that the history
 * scenario pages through an account with a long history and the profile scenario decrypts real values.
 */
async function seedAccount(
  appUrl: string,
  account: ServersReady['account'],
  db: ReturnType<typeof createDatabase>,
  config: ReturnType<typeof loadConfig>,
  databaseUrl: string,
): Promise<void> {
  const login = await fetch(`${appUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  const { accessToken, user } = (await login.json()) as { accessToken: string; user: { id: string } };
  const profile = await fetch(`${appUrl}/api/v1/profile`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({
      monthlyIncomeCents: 650_000,
      currentSavingsCents: 1_200_000,
      currentDebtCents: 3_400_000,
      householdSize: 2,
      dependents: 1,
      city: 'Atlanta',
      state: 'GA',
      zipCode: '30303',
      employmentStatus: 'employed_full_time',
      ageRange: '25-34',
      timezone: 'America/New_York',
      reminderHour: 9,
      goals: ['emergency_fund'],
    }),
  });
  if (profile.status !== 200) throw new Error(`PUT /profile answered ${profile.status}: ${await profile.text()}`);
  const cipher = createFieldCipher(config.fieldEncryption);
  const notes = cipher.encrypt('Seeded history', fieldContext('user_health_checkins', 'notes_enc', user.id));
  await db.pool.query(
    `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
       sleep_hours, physical_activity_minutes, mindfulness_minutes, notes_enc)
     SELECT $1, DATE '1900-01-01' + n, 1 + n % 10, 1 + (n * 3) % 10, 1 + (n * 7) % 10, 6 + (n % 5) * 0.5, n % 90, n % 30, $2
     FROM generate_series(0, 1999) AS n`,
    [user.id, notes],
  );
  await db.pool.query('ANALYZE user_health_checkins');
  await seedBank(databaseUrl, config, user.id);
}

/** The bank account's data: BANK_TRANSACTIONS over BANK_YEAR, and a check-in on each of its days. */
export const BANK_TRANSACTIONS = 200_000;
/** After the seeded history (1900–1905), far behind the check-ins the POST scenario writes from yesterday back. */
export const BANK_YEAR = 1906;
const BANK_CATEGORIES = [
  'FOOD_AND_DRINK',
  'GENERAL_MERCHANDISE',
  'TRANSPORTATION',
  'RENT_AND_UTILITIES',
  'ENTERTAINMENT',
];

/**
 * Puts the bench account on the professional plan (as the Stripe webhook would leave it: the plan sells bank links
 * and the wellness insights) with one linked item, one account, BANK_TRANSACTIONS transactions spread over BANK_YEAR
 * (about 548 a day, one in forty an income) and a check-in on each of that year's days. By SQL: through a sync this
 * would take minutes of the bench's start (the sync scenario measures that path).
 */
async function seedBank(databaseUrl: string, config: ReturnType<typeof loadConfig>, userId: string): Promise<void> {
  // A connection of its own: the app pool's statement timeout is for requests, not for 200,000 inserted rows.
  await admin(databaseUrl, async (db) => {
    await db.query(
      `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_end)
     VALUES ($1, 'cus_bench', 'sub_bench', 'professional', 'active', now() + interval '1 year')`,
      [userId],
    );
    const itemId = randomUUID();
    const cipher = createFieldCipher(config.fieldEncryption);
    const token = cipher.encrypt(`access-sandbox-${randomUUID()}`, accessTokenContext(userId), itemId);
    await db.query(
      `INSERT INTO plaid_items (id, user_id, plaid_item_id, access_token_enc, institution_id, institution_name)
     VALUES ($1, $2, 'item_bench', $3, 'ins_109508', 'First Platypus Bank')`,
      [itemId, userId, token],
    );
    const account = await db.query<{ id: string }>(
      `INSERT INTO bank_accounts (item_id, user_id, plaid_account_id, name, mask, type, subtype, current_balance_cents,
       iso_currency_code)
     VALUES ($1, $2, 'acc_bench', 'Checking', '0000', 'depository', 'checking', 1234500, 'USD') RETURNING id`,
      [itemId, userId],
    );
    await db.query(
      `INSERT INTO bank_transactions (account_id, user_id, plaid_transaction_id, date, amount_cents, iso_currency_code,
       name, merchant_name, category)
     SELECT $1, $2, 'tx_bench_' || n, make_date($4, 1, 1) + n % 365,
            CASE WHEN n % 40 = 0 THEN 250000 + n % 1000 ELSE -(100 + (n * 7919) % 20000) END, 'USD',
            'Purchase ' || n % 500, 'Merchant ' || n % 500, ($3::text[])[1 + n % 5]
     FROM generate_series(0, $5::int - 1) AS n`,
      [account.rows[0]?.id, userId, BANK_CATEGORIES, BANK_YEAR, BANK_TRANSACTIONS],
    );
    await db.query(
      `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
       sleep_hours, physical_activity_minutes, mindfulness_minutes)
     SELECT $1, make_date($2, 1, 1) + n, 1 + n % 10, 1 + (n * 3) % 10, 5, 7, 30, 10
     FROM generate_series(0, 364) AS n`,
      [userId, BANK_YEAR],
    );
    await db.query('ANALYZE bank_transactions');
    await db.query('ANALYZE user_health_checkins');
  });
}

/**
 * A baseline listens as bare Express 5 does (`app.listen`): Express then changes the prototype of every request and
 * response, which the app's own server avoids (src/platform/http-server.ts). That saving is the app's own work, so
 * it counts in the app's favour, as any other; the `*-app-server` baselines show the app without it.
 */
function listenBare(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

async function serve(listening: Promise<Server>): Promise<Server> {
  const server = await listening;
  cleanup.push(async () => void (await closeServer(server, 2_000)));
  return server;
}

function port(server: Server): number {
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('server has no TCP address');
  return address.port;
}

/** DATABASE_URL's server, else 127.0.0.1:5432, else an embedded PostgreSQL on a temporary directory. */
async function postgresServer(logger: Logger): Promise<string> {
  const candidates = [process.env.DATABASE_URL && withDatabase(process.env.DATABASE_URL, 'postgres'), DEFAULT_PG];
  for (const url of candidates) if (url && (await answers(url))) return url;
  const dir = mkdtempSync(path.join(tmpdir(), 'mingus-bench-pg-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const embedded = await startEmbeddedPostgres(path.join(dir, 'cluster'), logger);
  cleanup.push(() => embedded.stop());
  return withDatabase(embedded.url, 'postgres');
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  return admin(url, (c) => c.query('SELECT 1')).then(
    () => true,
    () => false,
  );
}

async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}

/** The client has no offline queue, so readiness would answer 503 until it has connected. */
function redisReady(redis: RedisClient, url: string): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis does not answer at ${url}; set REDIS_URL`)), 5_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

mkdirSync(RESULTS_DIR, { recursive: true });
// Written synchronously, as the production logger writes to stdout (platform/logger.ts); a fresh file per run.
const logger = createLogger({
  level: 'info',
  destination: pino.destination({ dest: LOG_FILE, sync: true, append: false }),
});
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const step of cleanup.reverse()) {
    await step().catch((err: unknown) => console.error('bench servers: cleanup step failed:', err));
  }
  logger.flush(() => process.exit(code));
}

process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.resume();

start(logger).then(
  (ready) => process.stdout.write(`${JSON.stringify(ready)}\n`),
  (err: unknown) => {
    console.error('bench servers: startup failed:', err);
    void stop(1);
  },
);
