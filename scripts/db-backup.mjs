#!/usr/bin/env node
// npm run db:backup [-- --check] [-- --keep <n>]
// Dumps DATABASE_URL (unset outside production: the development database `npm start` runs) with
// `pg_dump --format=custom` to BACKUP_DIR (default ./backups) as mingus-<UTC time>.dump and prints the file's path
// on stdout (nothing else goes to stdout). The dump is written to a hidden
// `.….partial` file, checked with `pg_restore --list`, then renamed: a file named mingus-*.dump is always complete.
// --check: connect and pick the client tools, dump nothing (for a CronJob's first run, or a CI probe).
// --keep <n>: once the new dump is complete, delete the oldest complete dumps of BACKUP_DIR beyond the newest n (the
// CronJob's retention). Nothing is deleted when the dump fails.
// Runbook: docs/operations.md, "Backups".

import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CliError,
  childEnv,
  EXIT,
  findPgTool,
  main,
  run,
  serverMajor,
  targetDatabase,
  withClient,
} from './pg-tools.mjs';

const USAGE =
  'usage: npm run db:backup [-- --check] [-- --keep <n>]   (reads DATABASE_URL, else the development database, and BACKUP_DIR)';
const DUMP_NAME = /^mingus-\d{8}T\d{6}Z\.dump$/;

main(async () => {
  // Every file and directory this process creates is private to its user, whatever the caller's umask.
  process.umask(0o077);
  const { values } = parseCli();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1 && /^\d+$/.test(values.keep))) {
    throw new CliError(`--keep must be a whole number of dumps, 1 or more\n${USAGE}`, EXIT.usage);
  }
  const source = await targetDatabase('npm run db:backup', USAGE);

  const major = await withClient(source, serverMajor);
  const pgDump = await findPgTool(
    'pg_dump',
    major,
    `the server is PostgreSQL ${major} and pg_dump refuses newer servers`,
  );
  const pgRestore = await findPgTool('pg_restore', pgDump.major, 'to verify the archive pg_dump writes');
  if (values.check) {
    console.warn(`db:backup: ready: ${pgDump.text} can dump ${source.label} (PostgreSQL ${major})`);
    return;
  }

  const dir = path.resolve(process.env.BACKUP_DIR || 'backups');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `mingus-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}.dump`;
  const file = path.join(dir, name);
  if (await exists(file)) throw new CliError(`${file} already exists (another backup in the same second?)`);

  const partial = path.join(dir, `.${name}.partial`);
  const out = await open(partial, 'wx', 0o600);
  let complete = false;
  try {
    // pg_dump writes to our descriptor rather than opening the file itself, so the mode is ours (0600) and the
    // output stays seekable: pg_dump records data offsets only in a seekable file, and parallel (-j) or selective
    // restores need them.
    const dump = await run(pgDump.path, ['--format=custom', '--no-password'], {
      env: childEnv(source),
      stdout: out.fd,
    });
    if (dump.code !== 0) {
      throw new CliError(`pg_dump failed (${dump.signal ?? `exit ${dump.code}`}); no backup was written`);
    }
    await out.sync();
    await out.close();
    const list = await run(pgRestore.path, ['--list', partial], { capture: true });
    if (list.code !== 0) throw new CliError(`the new archive does not read back: ${list.stderr.trim()}`);
    await rename(partial, file);
    complete = true;
    await syncDir(dir);
  } finally {
    await out.close().catch(() => {});
    if (!complete) await unlink(partial).catch(() => {});
  }

  const { size } = await stat(file);
  console.warn(`db:backup: ${source.label} → ${file} (${formatBytes(size)}, ${pgDump.text})`);
  if (keep !== undefined) await prune(dir, keep);
  process.stdout.write(`${file}\n`);
});

function parseCli() {
  try {
    return parseArgs({
      options: { check: { type: 'boolean' }, keep: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new CliError(`${err.message}\n${USAGE}`, EXIT.usage);
  }
}

/** Deletes the complete dumps beyond the newest `keep`; their names are UTC timestamps, so they sort by age. */
async function prune(dir, keep) {
  const dumps = (await readdir(dir)).filter((name) => DUMP_NAME.test(name)).sort();
  for (const name of dumps.slice(0, Math.max(0, dumps.length - keep))) {
    await unlink(path.join(dir, name));
    console.warn(`db:backup: deleted ${name} (keeping the newest ${keep})`);
  }
}

async function exists(file) {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes the rename durable; some file systems (network mounts) cannot sync a directory, and that is fine. */
async function syncDir(dir) {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}

function formatBytes(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
