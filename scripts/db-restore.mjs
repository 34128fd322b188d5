#!/usr/bin/env node
// npm run db:restore -- <file.dump> [--target-url URL] [--yes]
// Restores a db:backup archive into the target (--target-url, else DATABASE_URL, else outside production the
// development database `npm start` runs) with pg_restore --clean --if-exists --no-owner --single-transaction
// --exit-on-error: it all applies, or nothing changes. A target that
// already holds tables is replaced only with --yes, so a restore meant for a scratch database cannot land on
// production by a slip of the URL. Runbook: docs/operations.md, "Backups".

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CliError,
  childEnv,
  conninfoDbname,
  countUserTables,
  EXIT,
  findPgTool,
  main,
  parseDatabaseUrl,
  run,
  serverMajor,
  targetDatabase,
  withClient,
} from './pg-tools.mjs';

const USAGE =
  'usage: npm run db:restore -- <file.dump> [--target-url URL] [--yes]   (target defaults to DATABASE_URL, else the development database)';

main(async () => {
  const { values, positionals } = parseCli();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) throw new CliError(`name exactly one backup file\n${USAGE}`, EXIT.usage);
  const file = path.resolve(positionals[0]);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`${file} is not a file`, EXIT.usage);
  const target = values['target-url']
    ? parseDatabaseUrl(values['target-url'])
    : await targetDatabase('npm run db:restore', `pass --target-url or set DATABASE_URL\n${USAGE}`);

  const { major, tables } = await withClient(target, async (c) => ({
    major: await serverMajor(c),
    tables: await countUserTables(c),
  }));
  const pgRestore = await findPgTool('pg_restore', major, `the target is PostgreSQL ${major}`);

  const list = await run(pgRestore.path, ['--list', file], { capture: true });
  if (list.code !== 0) {
    const hint = /unsupported version/.test(list.stderr)
      ? 'an archive made by a newer pg_dump needs a pg_restore at least as new (set PG_BIN_DIR to one)'
      : 'is it a file written by db:backup?';
    throw new CliError(`${pgRestore.text} cannot read ${file}: ${list.stderr.trim()}\n${hint}`);
  }
  const dumpedFrom = /Dumped from database version:\s*(\d+)/.exec(list.stdout)?.[1];
  if (dumpedFrom && Number(dumpedFrom) > major) {
    console.warn(
      `db:restore: warning: the backup comes from PostgreSQL ${dumpedFrom} and the target runs ${major}; ` +
        'restoring into an older major version may fail (and would then change nothing).',
    );
  }

  if (tables > 0 && !values.yes) {
    throw new CliError(
      `${target.label} already holds ${tables} table(s); restoring would drop and replace every object in the ` +
        'backup. Check the target, then re-run with --yes.',
      EXIT.refused,
    );
  }

  console.warn(`db:restore: ${file} → ${target.label} (${pgRestore.text}, one transaction)`);
  const restore = await run(
    pgRestore.path,
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      '--no-password',
      `--dbname=${conninfoDbname(target.database)}`,
      file,
    ],
    { env: childEnv(target) },
  );
  if (restore.code !== 0) {
    throw new CliError(`pg_restore failed (${restore.signal ?? `exit ${restore.code}`}); the target is unchanged`);
  }
  // pg_restore does not carry planner statistics over; without them the first queries plan blind.
  const analyzed = await withClient(target, (c) => c.query('ANALYZE')).then(
    () => 'statistics refreshed',
    (err) => `run ANALYZE yourself: ${err.message}`,
  );
  console.warn(`db:restore: done; ${target.label} now holds the backup's data (${analyzed})`);
});

function parseCli() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'target-url': { type: 'string' },
        yes: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new CliError(`${err.message}\n${USAGE}`, EXIT.usage);
  }
}
