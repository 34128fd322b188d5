import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isClean, readMigrationStatus } from '../../src/platform/migrations.js';
import { admin, createTestDatabase, withDatabase } from '../support/postgres.js';

// db:backup and db:restore are run as operators run them (npm scripts spawning pg_dump/pg_restore) against real
// PostgreSQL. The source database is a clone of the run's template, which the harness built with applyMigrations.

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXIT_REFUSED = 3;
const EXIT_UNAVAILABLE = 69;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function spawnRun(file: string, args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const npmRun = (script: string, args: string[], env: Record<string, string | undefined>) =>
  spawnRun('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], env);
const node = (script: string, args: string[], env: Record<string, string | undefined>) =>
  spawnRun(process.execPath, [path.join(ROOT, 'scripts', script), ...args], env);

/** The server URL with a password in it: trust auth ignores it, and no output may ever show it. */
function withPassword(url: string): { url: string; password: string } {
  const u = new URL(url);
  if (!u.password) u.password = `pw-${randomBytes(12).toString('hex')}`;
  return { url: u.toString(), password: decodeURIComponent(u.password) };
}

const server = withPassword(inject('pgServerUrl'));
// Without client tools as new as the server, skip outside CI (like a missing Redis); under CI, run and fail loudly.
const probe = await node('db-backup.mjs', ['--check'], { DATABASE_URL: server.url });
const toolsMissing = probe.code === EXIT_UNAVAILABLE && process.env.CI !== 'true';
if (toolsMissing) console.warn(`backup-restore tests skipped: ${probe.stderr.trim()}`);

let created = 0;
const dropLater: string[] = [];
async function emptyDatabase(): Promise<{ url: string }> {
  const name = `mingus_test_${inject('runId')}_restore_${process.pid}_${++created}`;
  await admin(inject('pgServerUrl'), (c) => c.query(`CREATE DATABASE ${name}`));
  dropLater.push(name);
  return { url: withDatabase(server.url, name) };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Every public table's row count and a checksum of all its rows, plus every constraint and index definition. */
async function snapshot(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    const data: Record<string, { rows: number; md5: string }> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ rows: number; md5: string }>(
        `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5
           FROM public.${client.escapeIdentifier(name)} t`,
      );
      data[name] = rows[0] as { rows: number; md5: string };
    }
    const { rows: constraints } = await client.query<{ def: string }>(
      `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
    );
    const { rows: indexes } = await client.query<{ def: string }>(
      `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
    );
    return { data, constraints: constraints.map((r) => r.def), indexes: indexes.map((r) => r.def) };
  } finally {
    await client.end();
  }
}

/** One or more rows in every table of the schema, through raw SQL, within the CHECK constraints. */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      WITH u AS (
        INSERT INTO users (email, password_hash, name, role) VALUES
          ('ada@example.com', '$2b$12$hash-a', 'Ada', 'user'),
          ('root@example.com', '$2b$12$hash-b', NULL, 'admin')
        RETURNING id, email
      ), ada AS (SELECT id FROM u WHERE email = 'ada@example.com')
      INSERT INTO user_profiles (user_id, monthly_income_enc, current_savings_enc, household_size, dependents,
                                 city, state, zip_code, timezone, goals)
      SELECT id, 'k1:iv:income', 'k1:iv:savings', 3, 1, 'Atlanta', 'GA', '30303', 'America/New_York',
             ARRAY['emergency-fund', 'pay-off-debt'] FROM ada`);
    const [ada] = await query<{ id: string }>(url, `SELECT id FROM users WHERE email = 'ada@example.com'`);
    const id = ada?.id;
    await client.query(
      `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
                                         sleep_hours, physical_activity_minutes, mindfulness_minutes, notes_enc)
       SELECT $1, current_date - d, 1 + d, 10 - d, 5, 7.25 + d, 30 * d, 10, CASE WHEN d = 1 THEN 'k1:iv:note' END
         FROM generate_series(1, 3) AS d`,
      [id],
    );
    await client.query(
      `WITH first AS (
         INSERT INTO reminder_schedules (user_id, title, due_date, anchor_day, recurrence, channel, completed_at)
         VALUES ($1, 'Pay rent', DATE '2026-01-01', 1, 'monthly', 'email', now()) RETURNING id
       )
       INSERT INTO reminder_schedules (user_id, title, due_date, anchor_day, recurrence, previous_id)
       SELECT $1, 'Pay rent', DATE '2026-02-01', 1, 'monthly', id FROM first`,
      [id],
    );
    await client.query(
      `INSERT INTO reminder_deliveries (reminder_id, user_id, occurrence, channel, status, attempts, sent_at)
       SELECT id, user_id, due_date, channel, 'sent', 1, now() FROM reminder_schedules WHERE user_id = $1`,
      [id],
    );
    await client.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, keys_enc)
       VALUES ($1, 'https://push.example.com/send/device-1', 'k1:iv:keys')`,
      [id],
    );
    await client.query(
      `WITH newer AS (
         INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
         VALUES ($1, gen_random_uuid(), 'hash-2', now() + interval '30 days') RETURNING id, family_id
       )
       INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at, replaced_by_id)
       SELECT $1, family_id, 'hash-1', now() + interval '30 days', now(), id FROM newer`,
      [id],
    );
    await client.query(
      `INSERT INTO api_keys (user_id, name, prefix, key_hash, expires_at) VALUES ($1, 'cli', 'mk_ab12', 'h', now() + interval '90 days')`,
      [id],
    );
    await client.query(
      `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at)
       VALUES ($1, 'password_reset', 'hash-reset', now() + interval '1 hour')`,
      [id],
    );
    await client.query(
      `INSERT INTO financial_questionnaire_submissions
         (user_id, questionnaire_slug, definition_version, answers_enc, score, band, recommendations)
       VALUES ($1, 'financial-health', 1, 'k1:iv:answers', 62, 'steady', '[{"code":"build-buffer"}]')`,
      [id],
    );
    await client.query(
      `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, state, response_status,
                                     response_body, expires_at)
       VALUES ($1, 'key-1', 'POST', '/api/v1/checkins', 'rh', 'completed', 201, '{"ok":true}', now() + interval '1 day')`,
      [id],
    );
    await client.query(
      `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status)
       VALUES ($1, 'cus_1', 'sub_1', 'mid_tier', 'active')`,
      [id],
    );
    await client.query(
      `INSERT INTO billing_invoices (user_id, stripe_invoice_id, amount_due_cents, amount_paid_cents, currency, status,
                                     period_start, period_end)
       VALUES ($1, 'in_1', 2000, 2000, 'usd', 'paid', now() - interval '30 days', now())`,
      [id],
    );
    await client.query(`INSERT INTO stripe_events (id, type) VALUES ('evt_1', 'invoice.paid')`);
    await client.query(
      `WITH item AS (
         INSERT INTO plaid_items (user_id, plaid_item_id, access_token_enc, institution_name)
         VALUES ($1, 'item-1', 'k1:iv:access', 'First Bank') RETURNING id
       ), account AS (
         INSERT INTO bank_accounts (item_id, user_id, plaid_account_id, name, type, current_balance_cents,
                                    iso_currency_code)
         SELECT id, $1, 'acc-1', 'Checking', 'depository', 123456789012, 'USD' FROM item RETURNING id
       )
       INSERT INTO bank_transactions (account_id, user_id, plaid_transaction_id, date, amount_cents, name, pending)
       SELECT id, $1, 'tx-' || n, DATE '2026-01-01' + n, -1999 * n, 'Coffee #' || n, n = 3
         FROM account, generate_series(1, 3) AS n`,
      [id],
    );
    await client.query(
      `INSERT INTO audit_log (user_id, actor_id, action, target_type, target_id, fields, request_id) VALUES
         ($1::uuid, $1::uuid, 'profile.update', 'user_profile', $1::text, ARRAY['monthlyIncomeCents'], 'req-1'),
         (NULL, NULL, 'maintenance.purge', NULL, NULL, ARRAY[]::text[], NULL)`,
      [id],
    );
  } finally {
    await client.end();
  }
}

describe.skipIf(toolsMissing)('db:backup and db:restore', () => {
  let source: { url: string; drop(): Promise<void> };
  let before: Awaited<ReturnType<typeof snapshot>>;
  let workDir: string;
  let backupDir: string;
  let backup: Run;

  async function migratedDatabase(): Promise<{ url: string }> {
    const db = await createTestDatabase();
    dropLater.push(db.name);
    return { url: withDatabase(server.url, db.name) };
  }

  beforeAll(async () => {
    const db = await createTestDatabase();
    source = { url: withDatabase(server.url, db.name), drop: db.drop };
    await seed(source.url);
    before = await snapshot(source.url);
    workDir = await mkdtemp(path.join(tmpdir(), 'mingus-backup-'));
    backupDir = path.join(workDir, 'nested', 'backups'); // does not exist yet: db:backup creates it
    backup = await npmRun('db:backup', [], { DATABASE_URL: source.url, BACKUP_DIR: backupDir });
  });

  afterAll(async () => {
    await source?.drop();
    for (const name of dropLater) {
      await admin(inject('pgServerUrl'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('when a seeded database is backed up, writes one private timestamped dump and prints only its path', async () => {
    expect(backup.code, backup.stderr).toBe(0);
    const file = backup.stdout.trim();
    expect(path.dirname(file)).toBe(backupDir);
    expect(path.basename(file)).toMatch(/^mingus-\d{8}T\d{6}Z\.dump$/);
    expect(await readdir(backupDir)).toEqual([path.basename(file)]); // no partial file left beside it
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(backupDir)).mode & 0o777).toBe(0o700);
    expect(`${backup.stdout}${backup.stderr}`).not.toContain(server.password);
    // Every table was seeded, so a table missing from the round trip below cannot hide behind "0 = 0".
    expect(Object.entries(before.data).filter(([, t]) => t.rows === 0)).toEqual([]);
  });

  it('when restored into a new database, every table holds the same rows, constraints and migration history', async () => {
    const target = await emptyDatabase();

    const res = await npmRun('db:restore', [backup.stdout.trim()], { DATABASE_URL: target.url });

    expect(res.code, res.stderr).toBe(0);
    expect(`${res.stdout}${res.stderr}`).not.toContain(server.password);
    const after = await snapshot(target.url);
    expect(after.data).toEqual(before.data);
    expect(after.constraints).toEqual(before.constraints);
    expect(after.indexes).toEqual(before.indexes);
    const pool = new pg.Pool({ connectionString: target.url });
    // end() resolves before its connections have closed, and the database is then dropped WITH (FORCE): a connection
    // the drop ends must not surface as an uncaught error.
    pool.on('error', () => undefined);
    try {
      expect(isClean(await readMigrationStatus(pool, path.join(ROOT, 'prisma/migrations')))).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('when the target already has tables and --yes is absent, refuses and changes nothing', async () => {
    const target = await migratedDatabase(); // tables, no rows

    const res = await node('db-restore.mjs', [backup.stdout.trim(), '--target-url', target.url], {});

    expect(res.code).toBe(EXIT_REFUSED);
    expect(res.stderr).toMatch(/already holds \d+ table\(s\).*--yes/s);
    expect(res.stderr).not.toContain(server.password);
    expect(await query(target.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 0 }]);
  });

  it('when the target already has tables and --yes is given, replaces its rows with the backup', async () => {
    const target = await migratedDatabase();
    await query(target.url, `INSERT INTO users (email, password_hash) VALUES ('stray@example.com', 'h')`);

    const res = await node('db-restore.mjs', [backup.stdout.trim(), '--target-url', target.url, '--yes'], {});

    expect(res.code, res.stderr).toBe(0);
    expect((await snapshot(target.url)).data).toEqual(before.data);
  });

  it('when pg_dump fails part-way, exits non-zero and leaves no file behind', async () => {
    // A role that may connect but read no table: pg_dump starts writing, then fails on its first LOCK TABLE.
    const role = `mingus_test_${inject('runId')}_noread_${process.pid}`;
    const password = randomBytes(16).toString('hex');
    await admin(inject('pgServerUrl'), (c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    try {
      const u = new URL(source.url);
      u.username = role;
      u.password = password;
      const dir = path.join(workDir, 'failed');

      const res = await node('db-backup.mjs', [], { DATABASE_URL: u.toString(), BACKUP_DIR: dir });

      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/permission denied/);
      expect(res.stderr).toMatch(/no backup was written/);
      expect(res.stdout).toBe('');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await admin(inject('pgServerUrl'), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  it('when --keep is given, deletes the oldest complete dumps beyond that many once the new one is written, and nothing else', async () => {
    const dir = path.join(workDir, 'retention');
    await mkdir(dir, { recursive: true });
    const old = ['mingus-20200101T031700Z.dump', 'mingus-20200102T031700Z.dump', 'mingus-20200103T031700Z.dump'];
    for (const name of [...old, 'notes.txt', '.mingus-20200104T031700Z.dump.partial']) {
      await writeFile(path.join(dir, name), 'x');
    }

    const res = await node('db-backup.mjs', ['--keep', '2'], { DATABASE_URL: source.url, BACKUP_DIR: dir });

    expect(res.code, res.stderr).toBe(0);
    const newest = path.basename(res.stdout.trim());
    expect((await readdir(dir)).sort()).toEqual(
      ['.mingus-20200104T031700Z.dump.partial', old[2], newest, 'notes.txt'].sort(),
    );
    expect(res.stderr).toContain(`deleted ${old[0]}`);
  });

  it('when --keep is not a whole number of at least 1, refuses before connecting and deletes nothing', async () => {
    const dir = path.join(workDir, 'retention-refused');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'mingus-20200101T031700Z.dump'), 'x');
    for (const keep of ['0', '-1', 'all', '1.5']) {
      const res = await node('db-backup.mjs', [`--keep=${keep}`], { DATABASE_URL: source.url, BACKUP_DIR: dir });
      expect(res.code, keep).toBe(2);
      expect(res.stderr, keep).toMatch(/--keep must be a whole number/);
    }
    expect(await readdir(dir)).toEqual(['mingus-20200101T031700Z.dump']);
  });

  it('when the only pg_dump is older than the server, explains which version is needed and writes nothing', async () => {
    const bin = path.join(workDir, 'old-bin');
    const dir = path.join(workDir, 'too-old');
    await mkdir(bin);
    await writeFile(path.join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    await chmod(path.join(bin, 'pg_dump'), 0o755);

    const res = await node('db-backup.mjs', [], { DATABASE_URL: source.url, BACKUP_DIR: dir, PG_BIN_DIR: bin });

    expect(res.code).toBe(EXIT_UNAVAILABLE);
    expect(res.stderr).toMatch(/pg_dump \d+ or newer is needed .*refuses newer servers.*found only: .*pg_dump 9\.6/s);
    await expect(stat(dir)).rejects.toThrow(); // checked before anything was created
  });
});
