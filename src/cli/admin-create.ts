import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import { AppError } from '../http/errors.js';
import { createCursors } from '../http/pagination.js';
import { createAdminService } from '../modules/admin/admin.service.js';
import { createAuditLog } from '../modules/audit/audit.port.js';
import { createSessionState } from '../modules/auth/session-state.service.js';
import { EmailInput } from '../modules/users/users.schemas.js';
import { createDatabase } from '../platform/db.js';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../platform/embedded-postgres.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { applyMigrations } from '../platform/migrations.js';
import { createPasswordHasher } from '../platform/password-hash.js';
import { closeRedis, createRedis, waitForRedis } from '../platform/redis.js';
import { guardRedis } from '../platform/redis-guard.js';

/**
 * `npm run admin:create -- --email ann@example.com` (production image: `node dist/cli/admin-create.js --email …`).
 * Makes the account an admin, creating it when it does not exist. The rules live in the admin service; this file
 * only reads the arguments and the password, builds the platform pieces and reports. Exit codes: 0 done,
 * 1 refused or failed, 2 usage.
 */

// src/cli or dist/cli: the repository (or image) root is two levels up either way.
const ROOT_DIR = path.resolve(import.meta.dirname, '../..');
const USAGE = 'usage: admin-create --email <address>\n';

const say = (line: string) => process.stdout.write(`${line}\n`);
const fail = (line: string, code = 1): never => {
  process.stderr.write(`${line}\n`);
  process.exit(code);
};

function readEmail(): string {
  let values: { email?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ options: { email: { type: 'string' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const email = EmailInput.safeParse(values.email ?? '');
  if (!email.success) return fail(`${values.email ? 'not a valid email address' : '--email is required'}\n${USAGE}`, 2);
  return email.data;
}

function readConfig(): Config {
  const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
  try {
    return loadConfig(process.env, { rootDir: ROOT_DIR, packageVersion: pkg.version });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
}

/** On a terminal: asked twice, never echoed. Piped: the first line of stdin, so scripts and tests can supply it. */
async function askPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, terminal: false });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return fail('no password on stdin: pipe one line holding the new password');
  }
  const first = await promptHidden('Password for the new admin: ');
  const second = await promptHidden('Repeat it: ');
  if (first !== second) return fail('the two passwords differ; nothing was created');
  return first;
}

/** readline echoes what is typed through its output; an output that drops everything while muted hides it. */
function promptHidden(prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stderr.write(chunk, encoding);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  // Raw mode turns Ctrl-C into input: without this, readline would only pause and the process would hang.
  rl.on('SIGINT', () => {
    rl.close();
    fail('\ncancelled; nothing was created', 130);
  });
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/** DATABASE_URL, or in development the same embedded cluster `npm start` uses (migrated, as `npm start` would). */
async function databaseUrl(
  config: Config,
  logger: Logger,
): Promise<{ url: string; embedded?: EmbeddedPostgresHandle }> {
  if (config.db.url) return { url: config.db.url };
  if (config.production) return fail('DATABASE_URL is required in production');
  let embedded: EmbeddedPostgresHandle;
  try {
    embedded = await startEmbeddedPostgres(config.db.embeddedDir, logger);
  } catch (err) {
    return fail(
      `could not start the embedded PostgreSQL in ${config.db.embeddedDir}: ${(err as Error).message}\n` +
        'If `npm start` (or `npm run dev`) is running, it holds that data directory: stop it and retry, ' +
        'or set DATABASE_URL to reach a database server.',
    );
  }
  await applyMigrations(embedded.url, config.paths.root);
  return { url: embedded.url, embedded };
}

async function main() {
  const email = readEmail();
  const config = readConfig();
  // Diagnostics go to stderr, so stdout carries only the one line saying what was done.
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => process.stderr.write(line) } });
  const { url, embedded } = await databaseUrl(config, logger);
  const db = createDatabase({ url, poolMax: 2, logger });
  const redis = config.redis.url ? createRedis({ url: config.redis.url, logger }) : undefined;
  if (redis) await waitForRedis(redis, 2_000);
  const guarded = redis ? guardRedis({ redis, logger, commandTimeoutMs: config.redis.commandTimeoutMs }) : undefined;
  const now = () => new Date();
  const admin = createAdminService({
    db,
    auditLog: createAuditLog(),
    // Promotion ends the account's sessions; the running API reads their end from the same Redis keys.
    sessions: createSessionState({
      db,
      redis: guarded,
      keyPrefix: config.redis.keyPrefix,
      logger,
      accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
      now,
    }),
    cursors: createCursors(config.auth.jwtSecret),
    hasher: createPasswordHasher(config.auth.bcryptCost),
  });

  let code = 0;
  try {
    const { outcome, user } = await admin.promoteOrCreateAdmin(email, askPassword);
    const note = user.status === 'suspended' ? ' (the account is suspended: it cannot sign in until reactivated)' : '';
    if (outcome === 'created') say(`created admin account ${user.email} (id ${user.id})`);
    else if (outcome === 'promoted') say(`promoted ${user.email} (id ${user.id}) to admin; its sessions ended${note}`);
    else say(`${user.email} (id ${user.id}) is already an admin; nothing changed${note}`);
  } catch (err) {
    code = 1;
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`refused: ${err.message}\n`);
    for (const problem of err.fields ?? []) process.stderr.write(`  - ${problem.path} ${problem.message}\n`);
  } finally {
    await db.close();
    if (redis) await closeRedis(redis);
    await embedded?.stop();
  }
  process.exit(code);
}

main().catch((err: unknown) => {
  console.error('admin-create failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
