/**
 * `npm run bench:tracing`: the cost of traces. The real entry point (src/main.ts) runs twice under the same load on
 * GET /api/v1/users/me (a bearer token: jwt.verify, a session check in PostgreSQL, the rate limit in Redis): first
 * without OTEL_EXPORTER_OTLP_ENDPOINT (nothing of OpenTelemetry loaded), then with it pointing at a local OTLP/HTTP
 * sink in this process (every request traced and exported: HTTP, Express, PostgreSQL and Redis spans). Prints
 * requests/s, p99 and CPU per request of each, and the ratios. Tracing must be set up before express, pg and ioredis
 * are imported, so it cannot be switched on inside bench/servers.ts' process: hence two processes, as bench/workers.ts.
 * Production settings, a fresh database migrated with the Prisma CLI, real Redis. Figures: docs/performance.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { applyMigrations } from '../src/platform/migrations.js';
import { adminStatement, freePort } from './child-processes.js';
import { type Load, type Measurement, measure } from './load.js';
import { processCpuMicros } from './process-cpu.js';
import { NO_MAIL_SMTP_URL, productionEnv } from './production-env.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);

/** An OTLP/HTTP receiver that reads and discards: the exporter's whole cost stays in the app's process. */
async function otlpSink() {
  let spansBytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      spansBytes += chunk.length;
    });
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    received: () => spansBytes,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function start(databaseUrl: string, otlpEndpoint: string | undefined, sampleRatio = '1') {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...productionEnv(),
      SMTP_URL: NO_MAIL_SMTP_URL,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `mingus-bench-tracing-${process.pid}:`,
      OTEL_TRACES_SAMPLE_RATIO: sampleRatio,
      // The limits count in Redis on every request, as in production, but never refuse one.
      RATE_LIMIT_PER_MINUTE: '1000000',
      REGISTER_RATE_LIMIT_PER_HOUR: '1000000',
      LOG_LEVEL: 'warn',
      ...(otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint } : {}),
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    const status = await fetch(`${url}/health/startup`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { child, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`the app did not start (${otlpEndpoint ? 'tracing on' : 'tracing off'})`);
}

async function stop(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** GET /api/v1/users/me with the bearer token of an account registered and signed in through the app itself. */
async function usersMe(url: string): Promise<Load> {
  const account = {
    email: `bench-${randomBytes(6).toString('hex')}@example.com`,
    password: randomBytes(24).toString('base64url'),
  };
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  if (res.status !== 201) throw new Error(`registering the bench account: ${res.status}`);
  const { accessToken } = (await res.json()) as { accessToken: string };
  return {
    name: 'GET /api/v1/users/me',
    method: 'GET',
    path: '/api/v1/users/me',
    headers: { Authorization: `Bearer ${accessToken}` },
  };
}

async function run(databaseUrl: string, otlpEndpoint: string | undefined, sampleRatio?: string): Promise<Measurement> {
  const { child, url } = await start(databaseUrl, otlpEndpoint, sampleRatio);
  try {
    const load = await usersMe(url);
    await measure(load, url, 2, () => undefined); // warm-up
    const result = await measure(load, url, DURATION, () => processCpuMicros(child.pid as number));
    if (result.problem) throw new Error(result.problem);
    return result;
  } finally {
    await stop(child);
  }
}

const database = `mingus_bench_tracing_${process.pid}`;
await adminStatement(SERVER, `CREATE DATABASE ${database}`);
const sink = await otlpSink();
try {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString(), ROOT);
  const off = await run(url.toString(), undefined);
  const on = await run(url.toString(), sink.endpoint);
  const fullBytes = sink.received();
  const sampled = await run(url.toString(), sink.endpoint, '0.1');
  const cpu = (m: Measurement) =>
    m.cpuMicrosPerRequest === undefined ? '?' : `${Math.round(m.cpuMicrosPerRequest)} µs`;
  process.stdout.write(
    `GET /api/v1/users/me, 50 connections, ${DURATION} s\n` +
      `  tracing off  ${Math.round(off.requestsPerSecond)} req/s  p99 ${off.p99Ms.toFixed(1)} ms  CPU/request ${cpu(off)}\n` +
      `  tracing on   ${Math.round(on.requestsPerSecond)} req/s  p99 ${on.p99Ms.toFixed(1)} ms  CPU/request ${cpu(on)}` +
      `  (${Math.round(fullBytes / 1024)} KiB of spans exported)\n` +
      `  tracing 10%  ${Math.round(sampled.requestsPerSecond)} req/s  p99 ${sampled.p99Ms.toFixed(1)} ms  CPU/request ${cpu(sampled)}` +
      `  (${Math.round((sink.received() - fullBytes) / 1024)} KiB)\n` +
      `  on/off: req/s ${(on.requestsPerSecond / off.requestsPerSecond).toFixed(2)}×, p99 ${(on.p99Ms / off.p99Ms).toFixed(2)}×; ` +
      `10%/off: req/s ${(sampled.requestsPerSecond / off.requestsPerSecond).toFixed(2)}×, p99 ${(sampled.p99Ms / off.p99Ms).toFixed(2)}×\n`,
  );
} finally {
  await sink.close();
  await adminStatement(SERVER, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
