// Shared by db-backup.mjs, db-restore.mjs and db-prisma.mjs. Plain Node ESM on purpose: the production image has `node` and the
// production dependencies only (no tsx, and `dist/` holds `src/` alone), and these must run there unchanged.
// Rule: no output of these scripts ever contains the database password. The URL is split into libpq's PG*
// variables for the child process (on Linux a process's environment is readable by its owner only, unlike its
// command line, which `ps` shows to everyone), and targets are described as user@host:port/database.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseEnv } from 'node:util';
import pg from 'pg';

/** Exit codes besides 0 (done) and 1 (failed): documented in docs/operations.md. */
export const EXIT = { usage: 2, refused: 3, unavailable: 69 };

export class CliError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const ROOT = path.resolve(import.meta.dirname, '..');
const CONNECT_TIMEOUT_MS = 10_000;

// libpq URI parameters that have a PG* variable. Anything else in the query string (Prisma's `schema`,
// `connection_limit`, …) means nothing to pg_dump and is left out.
const PARAM_ENV = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
  sslnegotiation: 'PGSSLNEGOTIATION',
  channel_binding: 'PGCHANNELBINDING',
  gssencmode: 'PGGSSENCMODE',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};
// Inherited variables that say *where* to connect: the URL alone decides that, so a stray PGPORT or PGSERVICE in
// the operator's shell cannot silently point the dump or the restore at another database.
const LOCATION_ENV = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE', 'PGSERVICEFILE'];

/**
 * The environment as `npm start` reads it (src/config/env-file.ts has the same rule and says why): when NODE_ENV is
 * unset or `development`, `.env` at the repository root fills in what the environment lacks. Production and tests
 * never read it; a `.env` that sets another NODE_ENV is left unread under an explicit NODE_ENV=development, and
 * refused otherwise.
 */
export function developmentEnv(env = process.env) {
  if ((env.NODE_ENV ?? 'development') !== 'development') return env;
  const file = path.join(ROOT, '.env');
  if (!existsSync(file)) return env;
  const values = parseEnv(readFileSync(file, 'utf8'));
  if (values.NODE_ENV !== undefined && values.NODE_ENV !== 'development') {
    if (env.NODE_ENV === 'development') return env;
    throw new CliError(
      `${file} sets NODE_ENV=${values.NODE_ENV}, but .env holds development overrides only and is never read in ` +
        'production. Remove that line; or, if the file is Docker Compose settings, set NODE_ENV in the environment ' +
        '(development then leaves the file unread; production takes DATABASE_URL from the environment)',
      EXIT.usage,
    );
  }
  return { ...values, ...env };
}

/**
 * The database to work on: DATABASE_URL (from the environment, or `.env` in development), else, outside production,
 * the development database that `npm start` runs on its embedded PostgreSQL. src/platform/embedded-postgres.ts
 * keeps that cluster's port and password in `<EMBEDDED_POSTGRES_DIR>.json`. These scripts do not start it: they say
 * how. The returned label names the target without its password.
 */
export async function targetDatabase(command, usage) {
  const env = developmentEnv();
  if (env.DATABASE_URL?.trim()) return parseDatabaseUrl(env.DATABASE_URL);
  if (env.NODE_ENV === 'production') {
    throw new CliError(`DATABASE_URL is not set (production has no development database)\n${usage}`, EXIT.usage);
  }

  const dir = path.resolve(ROOT, env.EMBEDDED_POSTGRES_DIR?.trim() || '.data/postgres');
  const shown = path.relative(process.cwd(), dir) || dir;
  let info;
  try {
    info = JSON.parse(readFileSync(`${dir}.json`, 'utf8'));
  } catch {
    throw new CliError(
      `DATABASE_URL is not set, and there is no development database yet (${shown}): \`npm start\` creates it; ` +
        `run \`${command}\` again while it runs, or set DATABASE_URL`,
      EXIT.unavailable,
    );
  }
  const target = parseDatabaseUrl(
    `postgresql://postgres:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/mingus`,
  );
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  const running = await client.connect().then(
    () => true,
    () => false,
  );
  await client.end().catch(() => {});
  if (!running) {
    throw new CliError(
      `DATABASE_URL is not set, and the development database (${shown}) is not running: start it with ` +
        `\`npm start\` (or \`npm run dev\`) in another terminal and run \`${command}\` again, or set DATABASE_URL`,
      EXIT.unavailable,
    );
  }
  console.warn(`${command}: DATABASE_URL is not set: using the development database ${target.label}`);
  return target;
}

/** Splits a postgresql:// URL into libpq variables and a printable label that never holds the password. */
export function parseDatabaseUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      'the database URL is not a valid URL (expected postgresql://user:password@host:port/db)',
      EXIT.usage,
    );
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new CliError(`the database URL must start with postgresql:// (got ${url.protocol}//)`, EXIT.usage);
  }
  const vars = {};
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host) vars.PGHOST = decodeURIComponent(host);
  if (url.port) vars.PGPORT = url.port;
  if (url.username) vars.PGUSER = decodeURIComponent(url.username);
  if (url.password) vars.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) vars.PGDATABASE = database;
  for (const [key, value] of url.searchParams) {
    const name = PARAM_ENV[key];
    if (name) vars[name] = value;
  }
  if (!vars.PGDATABASE) throw new CliError('the database URL names no database (…/<database> at its end)', EXIT.usage);
  const label = `${vars.PGUSER ?? '(default user)'}@${vars.PGHOST ?? 'localhost'}:${vars.PGPORT ?? '5432'}/${vars.PGDATABASE}`;
  return { url: raw, vars, database: vars.PGDATABASE, label };
}

/** The environment for pg_dump/pg_restore: ours minus DATABASE_URL and location variables, plus the URL's. */
export function childEnv(target) {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  for (const name of LOCATION_ENV) delete env[name];
  return { ...env, ...target.vars };
}

/** A libpq conninfo value, quoted: a database name containing `=` would otherwise be read as a conninfo string. */
export function conninfoDbname(database) {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export async function withClient(target, work) {
  const client = new pg.Client({
    connectionString: target.url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'mingus-backup',
  });
  try {
    await client.connect();
  } catch (err) {
    // pg's messages name the user and host at most, never the password.
    throw new CliError(`cannot connect to ${target.label}: ${err.message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function serverMajor(client) {
  const { rows } = await client.query('SHOW server_version_num');
  return Math.floor(Number(rows[0].server_version_num) / 10_000);
}

/** Tables (plain and partitioned) outside PostgreSQL's own schemas. */
export async function countUserTables(client) {
  const { rows } = await client.query(`
    SELECT count(*)::int AS n
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%'
       AND n.nspname NOT LIKE 'pg\\_temp\\_%'`);
  return rows[0].n;
}

/**
 * Finds `name` (pg_dump, pg_restore) whose major version is at least `minMajor`: PG_BIN_DIR alone when set, else
 * PATH, the versioned directories of Debian/Ubuntu and RHEL packages (newest first), then the embedded-postgres
 * package. pg_dump refuses servers newer than itself, and pg_restore cannot read archives from a newer pg_dump.
 */
export async function findPgTool(name, minMajor, why) {
  const found = [];
  for (const file of candidates(name)) {
    const version = await toolVersion(file);
    if (!version) continue;
    if (version.major >= minMajor) return { path: file, ...version };
    found.push(`${file} (${version.text})`);
  }
  const seen = found.length > 0 ? `found only: ${found.join(', ')}` : `no ${name} found`;
  const where = process.env.PG_BIN_DIR ? `in PG_BIN_DIR=${process.env.PG_BIN_DIR}` : 'on PATH or in the usual places';
  throw new CliError(
    `${name} ${minMajor} or newer is needed (${why}), but ${seen} ${where}. Install the PostgreSQL ` +
      `${minMajor}+ client tools (Debian/Ubuntu: postgresql-client-${minMajor}, from apt.postgresql.org if the ` +
      'distribution lacks it) or set PG_BIN_DIR to their bin directory.',
    EXIT.unavailable,
  );
}

function candidates(name) {
  const exe = process.platform === 'win32' ? `${name}.exe` : name;
  if (process.env.PG_BIN_DIR) return executables([path.join(process.env.PG_BIN_DIR, exe)]);
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const versioned = (root, pattern, bin) =>
    listDir(root)
      .filter((d) => pattern.test(d))
      .sort((a, b) => Number(b.match(/\d+/)?.[0]) - Number(a.match(/\d+/)?.[0]))
      .map((d) => path.join(root, d, bin));
  dirs.push(...versioned('/usr/lib/postgresql', /^\d+$/, 'bin'), ...versioned('/usr', /^pgsql-\d+$/, 'bin'));
  const embedded = embeddedBinDir();
  if (embedded) dirs.push(embedded);
  return executables(dirs.map((d) => path.join(d, exe)));
}

function executables(files) {
  const seen = new Set();
  const out = [];
  for (const file of files) {
    try {
      accessSync(file, constants.X_OK);
      const real = realpathSync(file);
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(file);
    } catch {
      // not there, or not executable
    }
  }
  return out;
}

function listDir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The embedded-postgres platform package: a last resort (the pinned build ships the server but no pg_dump). */
function embeddedBinDir() {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    const pkg = createRequire(path.join(ROOT, 'package.json')).resolve(
      `@embedded-postgres/${platform}-${process.arch}/package.json`,
    );
    return path.join(path.dirname(pkg), 'native', 'bin');
  } catch {
    return undefined;
  }
}

async function toolVersion(file) {
  const { code, stdout } = await run(file, ['--version'], { capture: true });
  const m = code === 0 ? /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout) : null;
  if (!m) return undefined;
  return { major: Number(m[1]), text: `${path.basename(file)} ${m[1]}${m[2] ? `.${m[2]}` : ''}` };
}

/**
 * Runs a PostgreSQL tool. Its stderr is passed through (prefixed) unless captured; SIGINT/SIGTERM received
 * meanwhile are forwarded, so an interrupted backup still reaches its clean-up.
 */
export function run(file, args, { env = process.env, stdout = 'pipe', capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', stdout, 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      if (!capture) process.stderr.write(d);
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    const done = (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve({ code: code ?? 1, signal, stdout: out, stderr: err });
    };
    child.on('error', (e) => {
      err += e.message;
      done(1, null);
    });
    child.on('close', done);
  });
}

/**
 * Entry wrapper: `fn`'s result is the exit code (none: 0); CliError → its message and exit code; anything else is
 * a bug and keeps its stack.
 */
export function main(fn) {
  fn().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      if (err instanceof CliError) {
        console.error(`${path.basename(process.argv[1] ?? 'script')}: ${err.message}`);
        process.exit(err.exitCode);
      }
      console.error(err);
      process.exit(1);
    },
  );
}
