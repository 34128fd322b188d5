#!/usr/bin/env node
// node scripts/db-prisma.mjs <prisma arguments>: behind npm run db:migrate, db:migrate:create and db:drift.
// Runs the Prisma CLI with DATABASE_URL as the service reads it (the environment, or `.env` in development), else,
// outside production, the development database `npm start` runs, so these commands work on a fresh clone just as
// `npm start` does. prisma.config.ts reads DATABASE_URL; this only fills it in. The exit code is Prisma's (db:drift:
// 2 when the schema and the migrations disagree). Production's migration Job runs `prisma migrate deploy` itself.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CliError, EXIT, main, targetDatabase } from './pg-tools.mjs';

const USAGE = 'usage: node scripts/db-prisma.mjs <prisma arguments>   (DATABASE_URL, else the development database)';

main(async () => {
  const args = process.argv.slice(2);
  const event = process.env.npm_lifecycle_event;
  const command = event ? `npm run ${event}` : `node scripts/db-prisma.mjs ${args.join(' ')}`;
  const target = await targetDatabase(command, USAGE).catch((err) => {
    // 2 is db:drift's "the schema and the migrations differ": a missing database must not read as drift.
    if (err instanceof CliError && err.exitCode === EXIT.usage) err.exitCode = 1;
    throw err;
  });
  const pkg = createRequire(import.meta.url).resolve('prisma/package.json');
  const cli = path.join(path.dirname(pkg), 'build', 'index.js');
  return new Promise((resolve, reject) => {
    // Inherited stdio: `migrate dev` may ask for a migration name. Signals are passed on, so the exit code stays
    // Prisma's (under a terminal Prisma also hears Ctrl-C itself; a second SIGINT changes nothing).
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, DATABASE_URL: target.url },
      stdio: 'inherit',
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
});
