/**
 * `npm run bench:pool`: what keeping a connection PostgreSQL only refused (ADR 0012, `createDatabase`'s pool) is
 * worth against `pg`'s own pool, which closes the connection after any error. The same statements run on both pools
 * (same size, same server) in ABBA rounds: every statement refused (a unique violation, the 409 of a duplicate
 * check-in or e-mail), and a mix where one in twenty is. Prints statements a second, p99 and connections opened, and
 * the ratio kept ÷ closed. DATABASE_URL (a server where it may create and drop a database; default the local one),
 * BENCH_DURATION (seconds per run, default 5), BENCH_ROUNDS (default 2).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';

const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const POOL_MAX = 10;
/** Twice the pool: requests queue for a connection, as under load. */
const WORKERS = 2 * POOL_MAX;
/** Named, like every statement the app runs (ADR 0012): a closed connection loses its prepared statements too. */
const INSERT = { name: 'bench_pool_insert', text: 'INSERT INTO bench_pool (id) VALUES ($1)' };
const READ = { name: 'bench_pool_read', text: 'SELECT id FROM bench_pool WHERE id = $1' };

interface Run {
  perSecond: number;
  p99Ms: number;
  connections: number;
}

/** Runs the workload on `pool` for SECONDS: `refusedEvery` 1 → every statement refused, 20 → one in twenty. */
async function measure(pool: pg.Pool, refusedEvery: number): Promise<Run> {
  let connections = 0;
  const counted = () => connections++;
  pool.on('connect', counted);
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const i = n++;
      const started = performance.now();
      if (i % refusedEvery === 0) await pool.query({ ...INSERT, values: [1] }).catch(() => undefined);
      else await pool.query({ ...READ, values: [1] });
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  pool.off('connect', counted);
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / SECONDS,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
    connections,
  };
}

const best = (runs: Run[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

async function main(): Promise<void> {
  const database = `mingus_bench_pool_${process.pid}`;
  const url = new URL(SERVER);
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  url.pathname = `/${database}`;
  const kept = createDatabase({ url: url.toString(), poolMax: POOL_MAX, logger: createLogger({ level: 'silent' }) });
  const closed = new pg.Pool({ connectionString: url.toString(), max: POOL_MAX });
  // The database is dropped WITH (FORCE) at the end: a connection ended by it must not end this process.
  closed.on('error', () => undefined);
  try {
    await closed.query('CREATE TABLE bench_pool (id int PRIMARY KEY); INSERT INTO bench_pool VALUES (1)');
    say(`pools of ${POOL_MAX}, ${WORKERS} concurrent statements, ${ROUNDS} × ${SECONDS} s a side (ABBA)`);
    say('| workload | kept stmt/s | closed stmt/s | ratio | kept p99 ms | closed p99 ms | connections kept/closed |');
    say('|:--|--:|--:|--:|--:|--:|--:|');
    for (const [label, every] of [
      ['every statement refused', 1],
      ['one in twenty refused', 20],
    ] as const) {
      const runs = { kept: [] as Run[], closed: [] as Run[] };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['kept', 'closed'] as const) : (['closed', 'kept'] as const);
        for (const side of order) runs[side].push(await measure(side === 'kept' ? kept.pool : closed, every));
      }
      const k = best(runs.kept);
      const c = best(runs.closed);
      say(
        `| ${label} | ${k.perSecond.toFixed(0)} | ${c.perSecond.toFixed(0)} | ${(k.perSecond / c.perSecond).toFixed(2)}× | ` +
          `${k.p99Ms.toFixed(2)} | ${c.p99Ms.toFixed(2)} | ${k.connections}/${c.connections} |`,
      );
    }
  } finally {
    await kept.close();
    await closed.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error('bench:pool failed:', err);
  process.exit(1);
});

function say(line: string) {
  process.stdout.write(`${line}\n`);
}
