/**
 * `npm run bench:workers`: the real entry point (src/main.ts) with WEB_CONCURRENCY=1, then 2, under the same load
 * on GET /health/liveness; prints requests/s of each and the ratio (issue target: 2 workers ≥ 1.6× one).
 * Production settings, a fresh database migrated with the Prisma CLI, real Redis. The load generator runs in this
 * process, so on a 2-core machine it competes with the workers for the second core: read the ratio with that in mind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { applyMigrations } from '../src/platform/migrations.js';
import { adminStatement, freePort } from './child-processes.js';
import { measure } from './load.js';
import { processCpuMicros } from './process-cpu.js';
import { NO_MAIL_SMTP_URL, productionEnv } from './production-env.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const scenario = {
  name: 'GET /health/liveness',
  target: 'app',
  compareTo: 'one worker',
  method: 'GET',
  path: '/health/liveness',
} as const;

async function start(workers: number, databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...productionEnv(),
      SMTP_URL: NO_MAIL_SMTP_URL,
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: String(workers),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (
      (await fetch(`${url}/health/startup`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      return { child, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`WEB_CONCURRENCY=${workers} did not start`);
}

async function run(workers: number, databaseUrl: string) {
  const { child, url } = await start(workers, databaseUrl);
  try {
    await measure(scenario, url, 2, () => undefined); // warm-up
    const result = await measure(scenario, url, DURATION, () => processCpuMicros(child.pid as number));
    if (result.problem) throw new Error(result.problem);
    return result.requestsPerSecond;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const database = `mingus_bench_workers_${process.pid}`;
await adminStatement(SERVER, `CREATE DATABASE ${database}`);
try {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString(), ROOT);
  const one = await run(1, url.toString());
  const two = await run(2, url.toString());
  const ratio = two / one;
  process.stdout.write(
    `GET /health/liveness, 50 connections, ${DURATION} s\n` +
      `  WEB_CONCURRENCY=1  ${Math.round(one)} req/s\n` +
      `  WEB_CONCURRENCY=2  ${Math.round(two)} req/s\n` +
      `  ratio ${ratio.toFixed(2)}× (target ≥ 1.6×) ${ratio >= 1.6 ? 'PASS' : 'FAIL'}\n`,
  );
  process.exitCode = ratio >= 1.6 ? 0 : 1;
} finally {
  await adminStatement(SERVER, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
