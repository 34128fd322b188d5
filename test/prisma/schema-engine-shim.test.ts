import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The real Prisma CLI, run through scripts/prisma-schema-engine.mjs (ADR 0001) exactly as developers and CI run it.

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'node_modules/prisma/build/index.js');
const SHIM = path.join(ROOT, 'scripts/prisma-schema-engine.mjs');
const TIMEOUT = 60_000;
const serverUrl: string =
  inject('pgServerUrl') ?? process.env.TEST_PG_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// The run's prefix, when the global setup gave one, lets its teardown drop whatever a crashed run left behind.
const prefix = `mingus_test_${inject('runId') ?? `${process.pid}_${Date.now().toString(36)}`}_shim`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function urlOf(database: string, server = serverUrl): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const created: string[] = [];
let counter = 0;
/** A name for a database this file creates (or lets the CLI create); dropped in afterAll. */
function databaseName(purpose: string): string {
  const name = `${prefix}_${purpose}_${++counter}`;
  created.push(name);
  return name;
}
async function createDatabase(purpose: string): Promise<string> {
  const name = databaseName(purpose);
  await sql(serverUrl, `CREATE DATABASE ${name}`);
  return urlOf(name);
}

/**
 * Runs `node <args>` and always resolves. No DATABASE_URL or engine path leaks in from the caller: prisma.config.ts
 * must wire the shim itself. Any engine download would go to a closed port, so a passing run proves none is needed.
 */
function node(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Run> {
  const { DATABASE_URL: _url, PRISMA_SCHEMA_ENGINE_BINARY: _engine, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd,
        env: {
          ...inherited,
          CHECKPOINT_DISABLE: '1',
          NO_COLOR: '1',
          PRISMA_ENGINES_MIRROR: 'http://127.0.0.1:9',
          ...env,
        },
        timeout: TIMEOUT - 5_000,
        maxBuffer: 10 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const prisma = (args: string[], env: Record<string, string> = {}, cwd = ROOT) => node([CLI, ...args], env, cwd);

/** The drift check exactly as package.json's `db:drift` script runs it. */
function driftCheckArgs(): string[] {
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  // `node scripts/db-prisma.mjs <prisma arguments>`: the wrapper only fills in DATABASE_URL when it is unset.
  const [command, wrapper, ...args] = (scripts['db:drift'] ?? '').split(/\s+/);
  expect([command, wrapper]).toEqual(['node', 'scripts/db-prisma.mjs']);
  return args;
}

/** Talks JSON-RPC to the shim directly: sends `lines`, closes stdin, collects the answers and the exit code. */
function rpc(databaseUrl: string, lines: string[]): Promise<{ code: number | null; answers: unknown[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SHIM, '--datasource', JSON.stringify({ url: databaseUrl })], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const answers = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
      resolve({ code, answers });
    });
    child.stdin.end(lines.map((line) => `${line}\n`).join(''));
  });
}

const shadowDatabases = async () =>
  (
    await sql<{ datname: string }>(
      serverUrl,
      "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'",
    )
  ).map((row) => row.datname);

afterAll(async () => {
  for (const name of created) await sql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('the Prisma CLI through the offline schema engine shim', () => {
  it(
    'when asked for its version with no network, reports the wasm engine found through prisma.config.ts',
    async () => {
      const { version } = JSON.parse(
        readFileSync(path.join(ROOT, 'node_modules/@prisma/schema-engine-wasm/package.json'), 'utf8'),
      ) as { version: string };
      const hash = version.slice(version.lastIndexOf('.') + 1);

      const run = await prisma(['--version']);

      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        new RegExp(`Schema Engine\\s*: schema-engine-cli ${hash} \\(at scripts/prisma-schema-engine\\.mjs`),
      );
      expect(`${run.stdout}${run.stderr}`).not.toContain('binaries.prisma.sh');
    },
    TIMEOUT,
  );

  describe('when migrations are deployed into a database that does not exist yet', () => {
    let url: string;
    let deploy: Run;
    beforeAll(async () => {
      url = urlOf(databaseName('deploy'));
      deploy = await prisma(['migrate', 'deploy'], { DATABASE_URL: url });
    }, TIMEOUT);

    it(
      'creates it, applies every migration, and `migrate status` then finds nothing pending',
      async () => {
        expect(deploy.code, deploy.stderr).toBe(0);
        const applied = await sql<{ migration_name: string }>(
          url,
          'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
        );
        expect(applied.length).toBeGreaterThan(0);

        const status = await prisma(['migrate', 'status'], { DATABASE_URL: url });
        expect(status.code, status.stderr).toBe(0);
        expect(status.stdout).toContain('Database schema is up to date');
      },
      TIMEOUT,
    );

    it('holds the hand-written CHECK constraints', async () => {
      const checks = await sql<{ conname: string }>(
        url,
        "SELECT conname FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
      );
      expect(checks.map((c) => c.conname)).toEqual(
        expect.arrayContaining([
          'users_email_lowercase_check',
          'user_health_checkins_stress_level_check',
          'user_health_checkins_mood_rating_check',
          'user_health_checkins_relationships_rating_check',
          'user_health_checkins_sleep_hours_check',
          'user_health_checkins_physical_activity_minutes_check',
          'user_health_checkins_mindfulness_minutes_check',
          'user_health_checkins_checkin_date_check',
          'user_profiles_household_size_check',
          'user_profiles_dependents_check',
          'financial_questionnaire_submissions_score_check',
          'billing_invoices_amount_due_cents_check',
          'billing_invoices_amount_paid_cents_check',
        ]),
      );
    });

    it('rejects rows that break them (SQLSTATE 23514) and accepts rows that keep them', async () => {
      await expect(
        sql(url, "INSERT INTO users (email, password_hash) VALUES ('Ada@Example.com', 'x')"),
      ).rejects.toMatchObject({ code: '23514', constraint: 'users_email_lowercase_check' });

      const [user] = await sql<{ id: string }>(
        url,
        "INSERT INTO users (email, password_hash) VALUES ('ada@example.com', 'x') RETURNING id",
      );
      const checkin = (date: string, stress: number) =>
        sql(
          url,
          `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
             sleep_hours, physical_activity_minutes, mindfulness_minutes) VALUES ($1, $2::date, $3, 5, 5, 7.5, 30, 10)`,
          [user?.id, date, stress],
        );
      const utcToday = new Date().toISOString().slice(0, 10);
      const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);

      await expect(checkin(utcToday, 11)).rejects.toMatchObject({
        code: '23514',
        constraint: 'user_health_checkins_stress_level_check',
      });
      await expect(checkin(inThreeDays, 5)).rejects.toMatchObject({
        code: '23514',
        constraint: 'user_health_checkins_checkin_date_check',
      });
      await expect(checkin(utcToday, 10)).resolves.toEqual([]);
    });
  });

  describe('the drift check (`npm run db:drift`)', () => {
    let tmp: string;
    beforeAll(() => {
      tmp = mkdtempSync(path.join(tmpdir(), 'mingus-drift-'));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it(
      'when the schema matches the migrations, exits 0 and leaves the configured database untouched',
      async () => {
        const url = await createDatabase('drift');
        const shadowsBefore = await shadowDatabases();

        const run = await prisma(driftCheckArgs(), { DATABASE_URL: url });

        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain('This is an empty migration');
        // The migrations are replayed in a temporary shadow database, never in the configured one, which is dropped.
        expect(await sql(url, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'")).toEqual([]);
        expect(await shadowDatabases()).toEqual(shadowsBefore);
      },
      TIMEOUT,
    );

    it(
      'when the schema has a field the migrations lack, exits 2 and prints the missing SQL',
      async () => {
        const url = await createDatabase('drift');
        const schema = readFileSync(path.join(ROOT, 'prisma/schema.prisma'), 'utf8');
        const drifted = schema.replace(/^model User \{\n/m, 'model User {\n  nickname String?\n');
        expect(drifted).not.toBe(schema);
        writeFileSync(path.join(tmp, 'schema.prisma'), drifted);
        const args = driftCheckArgs().map((arg) =>
          arg === 'prisma/schema.prisma' ? path.join(tmp, 'schema.prisma') : arg,
        );

        const run = await prisma(args, { DATABASE_URL: url });

        expect(run.code, run.stderr).toBe(2);
        expect(run.stdout).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT/);
        // The hand-written CHECK constraints are invisible to the diff: a new migration never drops them.
        expect(run.stdout).not.toContain('CONSTRAINT');
      },
      TIMEOUT,
    );

    it(
      'when the database server is unreachable, fails (exit 1) instead of reporting no drift',
      async () => {
        const run = await prisma(driftCheckArgs(), { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });

        expect(run.code).toBe(1);
        expect(run.stderr).toContain("Can't reach database server at `127.0.0.1:1`");
      },
      TIMEOUT,
    );
  });

  describe('when a migration holds semicolons in strings and a later one fails', () => {
    it(
      'applies the first whole, fails non-zero on the second, and leaves nothing of the second behind',
      async () => {
        // A throwaway project: the repository's migrations plus two, and a config that names the shim.
        const project = mkdtempSync(path.join(tmpdir(), 'mingus-shim-project-'));
        try {
          symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
          cpSync(path.join(ROOT, 'prisma'), path.join(project, 'prisma'), { recursive: true });
          const migration = (name: string, text: string) => {
            mkdirSync(path.join(project, 'prisma/migrations', name));
            writeFileSync(path.join(project, 'prisma/migrations', name, 'migration.sql'), text);
          };
          migration(
            '29990101000000_semicolons',
            `COMMENT ON TABLE "users" IS 'people; who use it';\n` +
              'CREATE FUNCTION shim_one() RETURNS int AS $$ BEGIN PERFORM 1; RETURN 1; END $$ LANGUAGE plpgsql;\n',
          );
          migration('29990101000001_broken', 'CREATE TABLE half_done (id int);\nSELECT no_such_column;\n');
          writeFileSync(
            path.join(project, 'prisma.config.ts'),
            "import { defineConfig } from 'prisma/config';\n" +
              "export default defineConfig({ schema: 'prisma/schema.prisma', migrations: { path: 'prisma/migrations' }," +
              " datasource: { url: process.env.DATABASE_URL ?? '' } });\n",
          );
          const url = await createDatabase('atomic');

          const run = await prisma(
            ['migrate', 'deploy'],
            { DATABASE_URL: url, PRISMA_SCHEMA_ENGINE_BINARY: SHIM },
            project,
          );

          expect(run.code).not.toBe(0);
          expect(`${run.stdout}${run.stderr}`).toContain('no_such_column');
          const [comment] = await sql<{ text: string }>(url, "SELECT obj_description('users'::regclass) AS text");
          expect(comment?.text).toBe('people; who use it');
          const [table] = await sql<{ exists: boolean }>(url, "SELECT to_regclass('half_done') IS NOT NULL AS exists");
          expect(table?.exists).toBe(false);
          const broken = await sql<{ finished: boolean }>(
            url,
            "SELECT finished_at IS NOT NULL AS finished FROM _prisma_migrations WHERE migration_name = '29990101000001_broken'",
          );
          expect(broken).toEqual([{ finished: false }]);
        } finally {
          rmSync(project, { recursive: true, force: true });
        }
      },
      TIMEOUT,
    );
  });
});

describe('the schema engine shim on its own', () => {
  it('when given an unknown argument, exits non-zero with an ERROR line', async () => {
    const run = await node([SHIM, '--no-such-flag']);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/"level":"ERROR".*no-such-flag/);
  });

  it('when the datasource is not JSON, exits non-zero with an ERROR line', async () => {
    const run = await node([SHIM, '--datasource', '{not json', 'cli', 'can-connect-to-database']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"level":"ERROR"');
  });

  it('when the database server is unreachable, answers P1001 to can-connect-to-database and exits non-zero', async () => {
    const datasource = JSON.stringify({ url: 'postgresql://postgres@127.0.0.1:1/nowhere' });

    const run = await node([SHIM, '--datasource', datasource, 'cli', 'can-connect-to-database']);

    expect(run.code).toBe(1);
    // The CLI discards the first stderr line and reads the error from the later ones.
    const [, ...lines] = run.stderr.trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ level: 'ERROR', fields: expect.objectContaining({ error_code: 'P1001' }) }),
    );
  });

  it('when sent garbage and an unknown method, answers each with a JSON-RPC error', async () => {
    const { code, answers } = await rpc(urlOf('postgres'), [
      'this is not json',
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'noSuchMethod', params: {} }),
    ]);

    expect(answers).toEqual([
      expect.objectContaining({ id: null, error: expect.objectContaining({ code: -32700 }) }),
      expect.objectContaining({
        id: 7,
        error: expect.objectContaining({
          data: expect.objectContaining({ message: expect.stringContaining('noSuchMethod') }),
        }),
      }),
    ]);
    expect(code).toBe(0);
  });

  it(
    'when the engine throws outside a promise (malformed parameters), answers the request and exits 1',
    async () => {
      const incomplete = { migrationsList: { baseDir: '/nowhere', migrationDirectories: [] }, filters: {} };
      const { code, answers } = await rpc(urlOf('postgres'), [
        JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'applyMigrations', params: incomplete }),
      ]);

      expect(answers).toEqual([
        expect.objectContaining({
          id: 3,
          error: expect.objectContaining({
            data: expect.objectContaining({ message: expect.stringContaining('missing field') }),
          }),
        }),
      ]);
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'when the engine panics, answers with the panic and exits 101',
    async () => {
      const { code, answers } = await rpc(urlOf('postgres'), [
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'debugPanic' }),
      ]);

      expect(answers).toEqual([
        expect.objectContaining({
          id: 1,
          error: expect.objectContaining({
            message: expect.stringContaining('debugPanic artificial panic'),
            data: expect.objectContaining({ is_panic: true }),
          }),
        }),
      ]);
      expect(code).toBe(101);
    },
    TIMEOUT,
  );
});
