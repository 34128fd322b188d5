/**
 * `npm run bench:workers`: the real entry point (src/main.ts) with WEB_CONCURRENCY=1, then 2, under the same load
 * on GET /health/liveness; prints requests/s of each and the ratio (issue target: 2 workers ≥ 1.6× one).
 * Production settings, a fresh database migrated with the Prisma CLI, real Redis. The load generator runs in this
 * process, so on a 2-core machine it competes with the workers for the second core: read the ratio with that in mind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../src/platform/migrations.js';
import { measure } from './load.js';
import { processCpuMicros } from './process-cpu.js';

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

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

async function start(workers: number, databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: String(workers),
      DATABASE_URL: databaseUrl,
      DATABASE_LOCAL_CONNECTION: 'true',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      CORS_ORIGINS: 'https://bench.invalid',
      HEALTH_TOKEN: randomBytes(32).toString('base64url'),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      CSRF_SECRET: randomBytes(48).toString('base64url'),
      FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      FIELD_ENCRYPTION_KEY_ID: 'k1',
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
await admin(`CREATE DATABASE ${database}`);
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
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
