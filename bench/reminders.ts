/**
 * The reminders scenario of `npm run bench` (alone: `BENCH_ONLY=reminders`): due email reminders delivered by two job
 * worker processes (src/worker.ts as `npm run worker` runs it, production settings) to a local SMTP server, against
 * a bare loop that sends the same messages with pooled nodemailer (bench/mail-loop.ts), two processes of it as there
 * are two workers. For 1,000 and then 10,000 reminders, each run on fresh rows: the time from the dispatch (one
 * `reminders.dispatch` job, as the workers' scheduler adds every minute) until the SMTP server has every message and
 * every delivery is recorded `sent`. Checks each reminder arrived exactly once, the throughput against the loop's,
 * that the cost grows linearly, and that the workers' RSS stays flat.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { EnvSchema } from '../src/config/env.schema.js';
import { createJobQueues } from '../src/platform/jobs.js';
import { reminderDueMail } from '../src/platform/mail-templates.js';
import { freePort, stopChild } from './child-processes.js';
import {
  MAIL_LOOP_CONNECTIONS,
  type MailItem,
  type MailLoopMessage,
  type MailLoopReply,
} from './mail-loop-protocol.js';
import { processCpuMicros } from './process-cpu.js';
import { processRssBytes } from './process-memory.js';
import { productionEnv } from './production-env.js';
import { fixed, markdown } from './report.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

/** What BENCH_ONLY is matched against. */
export const REMINDERS_SCENARIO = 'reminders';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORKERS = 2;
/** Reminders each side delivers before anything is measured: JIT, pools and Redis scripts warm, RSS settled. */
const WARMUP = 1_000;
const SIZES = [1_000, 10_000] as const;
/** The targets: msgs/s ≥ 0.5× the loop's at 10,000; time(10,000) ≤ 12 × time(1,000). */
const MIN_RATIO = 0.5;
const MAX_GROWTH = 12;
/**
 * "Flat": the most RSS each worker reaches during the 10,000 runs at most this much above the most it reached before
 * them (the warm-up and the 1,000 runs). Peaks, not instants: under load a worker's RSS is a sawtooth set by when V8
 * collects, so two instants differ by tens of MiB with no leak at all, while the peak follows what the process keeps
 * alive. A fixed margin, not a ratio: a ratio of a 200-300 MiB process (Prisma, the tsx loader) would let a leak of a
 * fifth of that pass. 64 MiB is about 6.5 KB kept per delivery of one worker's 10,000 (BENCH_ROUNDS=2).
 */
const RSS_MARGIN_BYTES = 64 * 2 ** 20;
const RSS_SAMPLE_MS = 250;
const MiB = 2 ** 20;
/** Production's defaults, which the workers run with (the bench does not set them). */
const WORKER_CONCURRENCY = EnvSchema.shape.WORKER_CONCURRENCY.parse(undefined);
const DATABASE_POOL_MAX = EnvSchema.shape.DATABASE_POOL_MAX.parse(undefined);

export interface RemindersSettings {
  databaseUrl: string;
  redisUrl: string;
  /** A prefix of the scenario's own: its queues never meet the API's. */
  keyPrefix: string;
  resultsDir: string;
  /** Runs of each side per size, in ABBA order; the fastest of each side is kept (noise only slows a run). */
  rounds: number;
}

export interface DeliveryRun {
  side: 'workers' | 'mail loop';
  messages: number;
  seconds: number;
  perSecond: number;
  /** CPU (user + system) of the two Node processes of that side per message, µs; not PostgreSQL's or Redis'. */
  cpuMicrosPerMessage: number | undefined;
  /** Connections the SMTP server accepted during the run: about one per 100 messages when the client pools. */
  smtpConnections: number;
  /** How long the dispatch job ran (finding the due reminders, enqueueing a delivery each); workers only. */
  dispatchSeconds?: number;
  /** Why the run does not count: a reminder missing or sent twice, a delivery not recorded, a job failed. */
  problem: string | undefined;
}

export interface SizeResult {
  messages: number;
  workers: DeliveryRun;
  loop: DeliveryRun;
  ratio: number;
  cpuRatio: number | undefined;
}

export interface WorkerMemory {
  worker: number;
  /** Right after the warm-up, and at the end: instants, for information (see RSS_MARGIN_BYTES). */
  afterWarmupBytes: number;
  endBytes: number;
  /** The highest before the 10,000 runs, and during them: what "flat" is judged on. */
  peakBeforeBytes: number;
  peakDuringBytes: number;
  /** After each measured run of the workers, in order. */
  afterRunsBytes: number[];
}

export interface Check {
  name: string;
  measured: string;
  target: string;
  verdict: 'PASS' | 'FAIL' | 'info';
}

export interface RemindersResult {
  settings: Record<string, string>;
  sizes: SizeResult[];
  growth: number;
  memory: WorkerMemory[];
  checks: Check[];
}

/**
 * Runs the scenario. `onStop` receives what stops its processes and servers, for a runner told to stop mid-run: the
 * workers must be gone before the bench's database and Redis keys are.
 */
export async function benchReminders(
  settings: RemindersSettings,
  say: (line: string) => void,
  onStop: (stop: () => Promise<void>) => void,
) {
  const cleanup: Array<() => Promise<void>> = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const step of cleanup.reverse()) {
        await step().catch((err: unknown) => console.error('bench reminders: cleanup step failed:', err));
      }
    })();
    return stopped;
  };
  onStop(stop);
  try {
    const sink = await startSmtpSink();
    cleanup.push(sink.close);
    const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
    cleanup.push(() => pool.end());
    const queues = createJobQueues({ redisUrl: settings.redisUrl, keyPrefix: settings.keyPrefix });
    cleanup.push(() => queues.close());
    const today = (
      await pool.query<{ today: string }>(`SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS today`)
    ).rows[0]?.today as string;

    const env = {
      ...productionEnv(),
      DATABASE_URL: settings.databaseUrl,
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: settings.keyPrefix,
      SMTP_URL: sink.url,
      LOG_LEVEL: 'info',
    };
    const workers: Worker[] = [];
    cleanup.push(async () => void (await Promise.all(workers.map((w) => w.stop()))));
    for (let i = 1; i <= WORKERS; i++) workers.push(await startWorker(i, env, settings.resultsDir));
    const loops: MailLoop[] = [];
    cleanup.push(async () => void (await Promise.all(loops.map((l) => l.stop()))));
    for (let i = 1; i <= WORKERS; i++)
      loops.push(await startMailLoop({ SMTP_URL: sink.url, MAIL_FROM: env.MAIL_FROM }));
    const rss = sampleRss(workers.map((w) => w.pid));
    cleanup.push(async () => rss.stop());

    const side = { sink, pool, queues, workers, loops, today };
    let runNumber = 0;
    const itemsOf = (count: number) => mailItems(`r${++runNumber}`, count, today);
    say(
      `reminders: ${WORKERS} worker processes (src/worker.ts, NODE_ENV=production, WORKER_CONCURRENCY ` +
        `${WORKER_CONCURRENCY}, DATABASE_POOL_MAX ${DATABASE_POOL_MAX}; logs: ` +
        `${path.relative(ROOT, settings.resultsDir)}/reminders-worker-*.log) against ${WORKERS} mail loops of ` +
        `${MAIL_LOOP_CONNECTIONS} pooled connections each`,
    );
    say(`  warming up: ${WARMUP.toLocaleString('en-US')} reminders each side`);
    const warmItems = itemsOf(WARMUP);
    for (const run of [await byLoop(side, warmItems), await byWorkers(side, warmItems, 'warm-up')])
      if (run.problem) throw new Error(`the reminders warm-up failed: ${run.problem}`);
    const afterWarmup = rss.now();

    const sizes: SizeResult[] = [];
    const afterRuns: number[][] = workers.map(() => []);
    let peakBefore: number[] = [];
    for (const messages of SIZES) {
      if (messages === SIZES[1]) peakBefore = rss.takePeak();
      const loopRuns: DeliveryRun[] = [];
      const workerRuns: DeliveryRun[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        const items = itemsOf(messages);
        const order = round % 2 === 0 ? (['loop', 'workers'] as const) : (['workers', 'loop'] as const);
        for (const which of order) {
          const run =
            which === 'loop' ? await byLoop(side, items) : await byWorkers(side, items, `${messages}-${round}`);
          (which === 'loop' ? loopRuns : workerRuns).push(run);
          if (which === 'workers') for (const [i, bytes] of rss.now().entries()) afterRuns[i]?.push(bytes);
          say(
            `  round ${round + 1}  ${run.side.padEnd(9)} ${messages.toLocaleString('en-US').padStart(6)} messages ` +
              `${run.seconds.toFixed(2).padStart(7)} s ${Math.round(run.perSecond).toString().padStart(6)} msgs/s` +
              (run.cpuMicrosPerMessage === undefined ? '' : `  ${Math.round(run.cpuMicrosPerMessage)} µs CPU/msg`) +
              `  ${run.smtpConnections} SMTP connections` +
              (run.dispatchSeconds === undefined ? '' : `  dispatch ${run.dispatchSeconds.toFixed(2)} s`),
          );
          if (run.problem) console.error(`  ✗ ${run.side}, ${messages} messages: ${run.problem}`);
        }
      }
      const workersBest = fastest(workerRuns);
      const loopBest = fastest(loopRuns);
      sizes.push({
        messages,
        workers: workersBest,
        loop: loopBest,
        ratio: workersBest.perSecond / loopBest.perSecond,
        cpuRatio:
          workersBest.cpuMicrosPerMessage && loopBest.cpuMicrosPerMessage
            ? workersBest.cpuMicrosPerMessage / loopBest.cpuMicrosPerMessage
            : undefined,
      });
    }
    const end = rss.now();
    const peakDuring = rss.takePeak();
    const memory = workers.map((_, i) => ({
      worker: i + 1,
      afterWarmupBytes: afterWarmup[i] ?? Number.NaN,
      endBytes: end[i] ?? Number.NaN,
      peakBeforeBytes: peakBefore[i] ?? Number.NaN,
      peakDuringBytes: peakDuring[i] ?? Number.NaN,
      afterRunsBytes: afterRuns[i] ?? [],
    }));
    return judge(sizes, memory, settings);
  } finally {
    await stop();
  }
}

/** The fastest run that counts; a run with a problem is returned instead, so that it fails the scenario. */
function fastest(runs: DeliveryRun[]): DeliveryRun {
  const failing = runs.find((r) => r.problem);
  if (failing) return failing;
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function judge(sizes: SizeResult[], memory: WorkerMemory[], settings: RemindersSettings): RemindersResult {
  const small = sizes.find((s) => s.messages === SIZES[0]);
  const large = sizes.find((s) => s.messages === SIZES[1]);
  if (!small || !large) throw new Error('bench/reminders.ts: a size was not measured');
  const growth = large.workers.seconds / small.workers.seconds;
  const problems = sizes.flatMap((s) => [s.workers, s.loop]).filter((r) => r.problem);
  const verdict = (ok: boolean): Check['verdict'] => (ok ? 'PASS' : 'FAIL');
  const checks: Check[] = [
    {
      name: `${fmt(large.messages)} due: msgs/s against the mail loop`,
      measured: `${fixed(large.ratio, 2)}×`,
      target: `≥ ${MIN_RATIO}×`,
      verdict: verdict(large.ratio >= MIN_RATIO && !large.workers.problem && !large.loop.problem),
    },
    {
      name: `time(${fmt(large.messages)}) ÷ time(${fmt(small.messages)})`,
      measured: `${fixed(growth, 2)}×`,
      target: `≤ ${MAX_GROWTH}×`,
      verdict: verdict(growth <= MAX_GROWTH),
    },
    ...memory.map((m) => ({
      name: `worker ${m.worker} RSS, highest before → during the ${fmt(large.messages)} runs`,
      measured:
        `${mib(m.peakBeforeBytes)} → ${mib(m.peakDuringBytes)} MiB ` +
        `(after warm-up ${mib(m.afterWarmupBytes)}, end ${mib(m.endBytes)})`,
      target: `≤ +${RSS_MARGIN_BYTES / MiB} MiB`,
      verdict: verdict(m.peakDuringBytes - m.peakBeforeBytes <= RSS_MARGIN_BYTES),
    })),
    {
      name: 'each reminder delivered once, each recorded sent',
      measured: problems.length === 0 ? 'every run' : `${problems.length} run(s) not`,
      target: 'every run',
      verdict: verdict(problems.length === 0),
    },
  ];
  return {
    settings: {
      workers: String(WORKERS),
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      DATABASE_POOL_MAX: String(DATABASE_POOL_MAX),
      mailLoops: `${WORKERS} × nodemailer pool of ${MAIL_LOOP_CONNECTIONS}`,
      rounds: String(settings.rounds),
      warmUp: String(WARMUP),
    },
    sizes,
    growth,
    memory,
    checks,
  };
}

/** The two tables the runner prints: deliveries against the loop, then the checks. */
export function remindersTables(result: RemindersResult): string {
  const deliveries = result.sizes.flatMap((s) => [
    [
      `mail loop, ${fmt(s.messages)} messages`,
      s.loop.seconds.toFixed(2),
      fixed(s.loop.perSecond, 0),
      s.loop.cpuMicrosPerMessage === undefined ? 'n/a' : fixed(s.loop.cpuMicrosPerMessage, 0),
      fixed(s.loop.smtpConnections, 0),
      '',
      '',
      '',
    ],
    [
      `reminders: ${fmt(s.messages)} due, ${WORKERS} workers`,
      s.workers.seconds.toFixed(2),
      fixed(s.workers.perSecond, 0),
      s.workers.cpuMicrosPerMessage === undefined ? 'n/a' : fixed(s.workers.cpuMicrosPerMessage, 0),
      fixed(s.workers.smtpConnections, 0),
      fixed(s.loop.perSecond, 0),
      `${fixed(s.ratio, 2)}×`,
      s.cpuRatio === undefined ? '' : `${fixed(s.cpuRatio, 2)}×`,
    ],
  ]);
  return [
    markdown(
      ['scenario', 's', 'msgs/s', 'CPU µs/msg', 'SMTP conns', 'baseline msgs/s', 'ratio', 'CPU ratio'],
      deliveries,
    ),
    '',
    markdown(
      ['check', 'measured', 'target', 'result'],
      result.checks.map((c) => [c.name, c.measured, c.target, c.verdict]),
    ),
  ].join('\n');
}

/** The figures for latest.json. */
export function remindersSummary(result: RemindersResult) {
  return {
    settings: result.settings,
    sizes: result.sizes,
    growth: result.growth,
    memoryMiB: result.memory.map((m) => ({
      worker: m.worker,
      afterWarmup: mib(m.afterWarmupBytes),
      peakBefore: mib(m.peakBeforeBytes),
      peakDuring: mib(m.peakDuringBytes),
      afterRuns: m.afterRunsBytes.map(mib),
      end: mib(m.endBytes),
    })),
    checks: result.checks,
  };
}

interface Sides {
  sink: SmtpSink;
  pool: pg.Pool;
  queues: ReturnType<typeof createJobQueues>;
  workers: Worker[];
  loops: MailLoop[];
  today: string;
}

/**
 * One reminder per account (each recipient and subject unique): `reminders-<run>-<n>@bench.invalid`, "Bill <run>-<n>",
 * due today (UTC).
 */
function mailItems(run: string, count: number, today: string): MailItem[] {
  return Array.from({ length: count }, (_, i) => ({
    to: `reminders-${run}-${i + 1}@bench.invalid`,
    title: `Bill ${run}-${i + 1}`,
    dueDate: today,
  }));
}

/** The loop's run: half the messages to each process, timed from "go" until the SMTP server has all of them. */
async function byLoop({ sink, loops }: Sides, items: MailItem[]): Promise<DeliveryRun> {
  sink.reset();
  const share = Math.ceil(items.length / loops.length);
  await Promise.all(loops.map((loop, i) => loop.load(items.slice(i * share, (i + 1) * share))));
  const cpuBefore = cpuOf(loops.map((l) => l.pid));
  const started = performance.now();
  const done = Promise.all(loops.map((loop) => loop.go()));
  await within(sink.waitFor(items.length), timeoutMs(items.length), 'the mail loop did not send every message');
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuOf(loops.map((l) => l.pid));
  await done;
  const problem = await settledOnce(sink, items);
  return {
    side: 'mail loop',
    messages: items.length,
    seconds,
    perSecond: items.length / seconds,
    cpuMicrosPerMessage: cpuBefore !== undefined && cpu !== undefined ? (cpu - cpuBefore) / items.length : undefined,
    smtpConnections: sink.connections,
    problem,
  };
}

/**
 * The workers' run: fresh rows committed, then one dispatch; timed from the commit (no dispatch, scheduled or ours,
 * can see the rows before it) until the SMTP server has every message and every delivery is recorded `sent`.
 */
async function byWorkers(sides: Sides, items: MailItem[], label: string): Promise<DeliveryRun> {
  const { sink, pool, queues, workers } = sides;
  sink.reset();
  await seedFresh(pool, items, sides.today);
  const started = performance.now();
  const cpuBefore = cpuOf(workers.map((w) => w.pid));
  const dispatchId = `reminders.dispatch.bench-${label}`;
  await queues.queue('reminders').add('reminders.dispatch', {}, { jobId: dispatchId });
  const deadline = timeoutMs(items.length);
  await within(sink.waitFor(items.length), deadline, 'the workers did not send every reminder');
  await within(
    (async () => {
      while ((await sentCount(pool)) < items.length) await sleep(5);
    })(),
    deadline,
    'the workers did not record every delivery',
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuOf(workers.map((w) => w.pid));
  // Nothing left to run, then count: a duplicate sent late would show now.
  await within(
    (async () => {
      for (;;) {
        const c = (await queues.counts()).reminders;
        if (!c || c.waiting + c.active === 0) return;
        await sleep(50);
      }
    })(),
    30_000,
    'jobs still running after every delivery was recorded',
  );
  const failed = (await queues.counts()).reminders?.failed ?? 0;
  const statuses = await pool.query<{ status: string; n: number }>(
    'SELECT status::text AS status, count(*)::int AS n FROM reminder_deliveries GROUP BY 1',
  );
  const notSent = statuses.rows.filter((r) => r.status !== 'sent').map((r) => `${r.n} ${r.status}`);
  const dispatch = await queues.queue('reminders').getJob(dispatchId);
  const problem = [
    await settledOnce(sink, items),
    ...(notSent.length > 0 ? [`deliveries recorded ${notSent.join(', ')}`] : []),
    ...(failed > 0 ? [`${failed} failed jobs`] : []),
  ].filter(Boolean);
  return {
    side: 'workers',
    messages: items.length,
    seconds,
    perSecond: items.length / seconds,
    cpuMicrosPerMessage: cpuBefore !== undefined && cpu !== undefined ? (cpu - cpuBefore) / items.length : undefined,
    smtpConnections: sink.connections,
    dispatchSeconds:
      dispatch?.processedOn && dispatch.finishedOn ? (dispatch.finishedOn - dispatch.processedOn) / 1000 : undefined,
    problem: problem.length > 0 ? problem.join('; ') : undefined,
  };
}

/**
 * After a short wait for late duplicates: every item arrived exactly once (its recipient with its subject) and
 * nothing else did; a description of what is wrong otherwise.
 */
async function settledOnce(sink: SmtpSink, items: MailItem[]): Promise<string | undefined> {
  await sleep(500);
  const pairs = sink.pairs();
  const expected = new Set(items.map((item) => `${item.to} ${reminderDueMail(item).subject}`));
  const missing = [...expected].filter((key) => !pairs.has(key)).length;
  const twice = [...pairs.values()].filter((n) => n > 1).length;
  const unexpected = [...pairs.keys()].filter((key) => !expected.has(key)).length;
  const problems = [
    ...(sink.received !== items.length ? [`${sink.received} messages for ${items.length} reminders`] : []),
    ...(missing > 0 ? [`${missing} reminders never arrived`] : []),
    ...(twice > 0 ? [`${twice} arrived more than once`] : []),
    ...(unexpected > 0 ? [`${unexpected} messages for no reminder of the run`] : []),
  ];
  return problems.length > 0 ? problems.join(', ') : undefined;
}

/**
 * Replaces the previous run's accounts with `items`' (each run on fresh rows, and only its own due), then inserts
 * the new ones in one transaction that ends with ANALYZE, so that the dispatcher's plan is the one production's
 * statistics give it and no autovacuum changes it mid-run. SQL rather than the API: 10,000 sign-ups cost minutes.
 */
async function seedFresh(pool: pg.Pool, items: MailItem[], today: string): Promise<void> {
  await pool.query(`DELETE FROM users WHERE email LIKE 'reminders-%@bench.invalid'`);
  await pool.query('VACUUM users, user_profiles, reminder_schedules, reminder_deliveries');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `WITH s AS (
         SELECT gen_random_uuid() AS id, email, title FROM unnest($1::text[], $2::text[]) AS t(email, title)
       ), u AS (
         INSERT INTO users (id, email, password_hash) SELECT id, email, 'not a hash' FROM s
       ), p AS (
         INSERT INTO user_profiles (user_id, timezone, reminder_hour) SELECT id, 'UTC', 0 FROM s
       )
       INSERT INTO reminder_schedules (user_id, title, due_date, channel, anchor_day)
       SELECT id, title, $3::date, 'email', extract(day FROM $3::date) FROM s`,
      [items.map((i) => i.to), items.map((i) => i.title), today],
    );
    await client.query('ANALYZE users, user_profiles, reminder_schedules, reminder_deliveries');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function sentCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reminder_deliveries WHERE status = 'sent'`,
  );
  return rows[0]?.n ?? 0;
}

interface Worker {
  pid: number;
  stop(): Promise<void>;
}

/** src/worker.ts in its own process, its log lines (stdout, as production writes them) to a file; ready once it says so. */
async function startWorker(n: number, env: Record<string, string>, resultsDir: string): Promise<Worker> {
  const port = await freePort();
  const log = openSync(path.join(resultsDir, `reminders-worker-${n}.log`), 'w');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './bench/exit-with-runner.ts', 'src/worker.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', WORKER_PORT: String(port), ...env },
      // stdin stays open: the worker drains and exits when it ends (bench/exit-with-runner.ts).
      stdio: ['pipe', log, log],
    },
  );
  closeSync(log);
  const stop = () => stopChild(child);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const status = await fetch(`http://127.0.0.1:${port}/health/readiness`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200 && child.pid !== undefined) return { pid: child.pid, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`reminders worker ${n} was not ready: see bench/results/reminders-worker-${n}.log`);
}

interface MailLoop {
  pid: number;
  load(items: MailItem[]): Promise<void>;
  go(): Promise<void>;
  stop(): Promise<void>;
}

async function startMailLoop(env: Record<string, string>): Promise<MailLoop> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/mail-loop.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reply = (expected: MailLoopReply['type']) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (message: MailLoopReply) => {
        if (message.type !== expected && message.type !== 'failed') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (message.type === 'failed') reject(new Error(`mail loop: ${message.message}`));
        else resolve();
      };
      const onExit = () => reject(new Error('the mail loop exited'));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const tell = (message: MailLoopMessage) => child.send(message);
  await within(reply('ready'), 60_000, 'the mail loop did not start');
  if (child.pid === undefined) throw new Error('the mail loop has no pid');
  return {
    pid: child.pid,
    async load(items) {
      const loaded = reply('loaded');
      tell({ type: 'load', items });
      await loaded;
    },
    async go() {
      const done = reply('done');
      tell({ type: 'go' });
      await done;
    },
    stop: () => stopChild(child),
  };
}

/** Samples each pid's RSS every RSS_SAMPLE_MS, keeping the highest seen since the last `takePeak()`. */
function sampleRss(pids: number[]) {
  let peak = pids.map(() => 0);
  const read = () =>
    pids.map((pid, i) => {
      const bytes = processRssBytes(pid) ?? Number.NaN;
      if (bytes > (peak[i] ?? 0)) peak[i] = bytes;
      return bytes;
    });
  const timer = setInterval(read, RSS_SAMPLE_MS);
  return {
    now: read,
    takePeak() {
      read();
      const highest = peak;
      peak = pids.map(() => 0);
      return highest;
    },
    stop: () => clearInterval(timer),
  };
}

function cpuOf(pids: number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const micros = processCpuMicros(pid);
    if (micros === undefined) return undefined;
    total += micros;
  }
  return total;
}

/** Generous: a run this slow has a problem worth reporting rather than waiting for. */
const timeoutMs = (messages: number) => 120_000 + 30 * messages;

function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => Math.round(bytes / MiB);
