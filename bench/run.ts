/**
 * `npm run bench`: the app's routes and their bare baselines under the same load, in the same run, as ratios of
 * requests per second, p99 latency and server CPU time per request. The servers run in a child process
 * (bench/servers.ts) so that autocannon, here, does not steal their event loop. Exits 1 when a target is missed.
 * BENCH_DURATION (seconds per run, default 10) and BENCH_ROUNDS (runs per side of each comparison, default 2);
 * BENCH_ONLY (a case-insensitive regular expression) keeps only the app scenarios whose name matches, with their
 * baselines — for working on one route; a full run is what counts.
 * Capacity scenarios (`c1000`: 1,000 connections on GET /api/v1/users/me for 30 s) run after the comparisons, once
 * each, for their own fixed duration, against absolute limits (no error, no timeout, a longest wait), and report
 * the servers' peak RSS during the run; `BENCH_ONLY=c1000` runs that one alone.
 * Last, the `reminders` scenario (bench/reminders.ts; `BENCH_ONLY=reminders` alone): 1,000 and 10,000 due email
 * reminders delivered by two job worker processes (src/worker.ts) to a local SMTP server, against a bare
 * pooled-nodemailer loop in two processes sending the same messages; targets: msgs/s ≥ 0.5× the loop's at 10,000,
 * time(10,000) ≤ 12 × time(1,000), each worker's RSS flat, every reminder delivered and recorded exactly once.
 * Then `bank-sync` (bench/bank-sync.ts; `BENCH_ONLY=bank-sync` alone): 10,000 and 50,000 transactions synced from the
 * tests' Plaid-compatible server by the banking.sync job's service in this process; time(50,000) ≤ 6 × time(10,000).
 * The app runs with production settings except those bench/servers.ts raises (abuse limits) or lowers (bcrypt
 * cost); they are printed at the start.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { BANK_SYNC_SCENARIO, benchBankSync } from './bank-sync.js';
import { stopChild } from './child-processes.js';
import { type Load, type Measurement, measure } from './load.js';
import { processCpuMicros } from './process-cpu.js';
import { peakRssBytes, resetPeakRss } from './process-memory.js';
import {
  benchReminders,
  REMINDERS_SCENARIO,
  type RemindersResult,
  remindersSummary,
  remindersTables,
} from './reminders.js';
import { type CapacityRow, capacityTable, type Row, table } from './report.js';
import {
  type AppScenario,
  type BaselineScenario,
  type CapacityScenario,
  type Fixtures,
  isCapacity,
  type Scenario,
  scenarios,
} from './scenarios.js';
import type { ServersReady } from './servers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const WARMUP_SECONDS = 2;
const STARTUP_TIMEOUT_MS = 180_000;
const SIGN_IN_PATIENCE_MS = 10_000;
/** Two clock ticks of /proc's 10 ms: timers and the log flush, no request. */
const IDLE_CPU_MICROS_PER_100_MS = 20_000;

const ReadyLine = z.object({
  app: z.number().int(),
  baselines: z.record(z.string(), z.number().int()),
  log: z.string(),
  versions: z.object({ postgres: z.string(), redis: z.string() }),
  settings: z.record(z.string(), z.string()),
  poolMax: z.number().int(),
  account: z.object({ email: z.string(), password: z.string() }),
  databaseUrl: z.string(),
  redis: z.object({ url: z.string(), keyPrefix: z.string() }),
}) satisfies z.ZodType<ServersReady>;

const SignedIn = z.object({ accessToken: z.string() });

const Settings = z.object({
  BENCH_DURATION: z.coerce.number().int().min(1).default(10),
  BENCH_ROUNDS: z.coerce.number().int().min(1).default(2),
  BENCH_ONLY: z.string().optional(),
});

async function main(): Promise<number> {
  const settings = Settings.parse(process.env);
  const only = settings.BENCH_ONLY ? new RegExp(settings.BENCH_ONLY, 'i') : undefined;
  const selected = (s: Scenario) => !only || only.test(s.name);
  const comparisons = plan(scenarios).filter(({ scenario }) => selected(scenario));
  const capacity = scenarios.filter(isCapacity).filter(selected);
  const measured = new Set(comparisons.flatMap(({ scenario, baseline }) => [scenario.name, baseline.name]));
  const withReminders = !only || only.test(REMINDERS_SCENARIO);
  const withBankSync = !only || only.test(BANK_SYNC_SCENARIO);
  const servers = await startServers();
  // The reminders' worker processes go first: they must not outlive the database and Redis keys they work on.
  let stopReminders: (() => Promise<void>) | undefined;
  const onSignal = (code: number) => () =>
    void (stopReminders?.() ?? Promise.resolve()).then(() => servers.stop()).then(() => process.exit(code));
  process.once('SIGINT', onSignal(130));
  process.once('SIGTERM', onSignal(143));
  try {
    const ready = servers.ready;
    const urlOf = (s: Scenario) => `http://127.0.0.1:${s.target === 'app' ? ready.app : ready.baselines[s.target]}`;
    const appUrl = `http://127.0.0.1:${ready.app}`;
    let fixtures = measured.size + capacity.length > 0 ? await signIn(appUrl, ready.account) : undefined;
    const run = async (s: Scenario, seconds: number, label: string) => {
      if (!fixtures) throw new Error('bench: not signed in');
      const m = await measure(withFixtures(s, fixtures), urlOf(s), seconds, servers.cpuMicros);
      await settle(servers.cpuMicros);
      const cpu = m.cpuMicrosPerRequest === undefined ? '' : `  ${Math.round(m.cpuMicrosPerRequest)} µs CPU/req`;
      say(
        `  ${label.padEnd(8)} ${s.name.padEnd(24)} ${Math.round(m.requestsPerSecond).toString().padStart(7)} req/s${cpu}`,
      );
      if (m.problem) console.error(`  ✗ ${s.name}: ${m.problem}`);
      return m;
    };

    say(`servers ready (app log: ${path.relative(ROOT, ready.log)})`);
    const changed = Object.entries(ready.settings).map(([k, v]) => `${k}=${v}`);
    say(`app settings that differ from production: ${changed.join(' ')}`);
    say('  (the limits count in Redis on every request as in production, but never refuse one)');
    say(`database pools: ${ready.poolMax} connections for the app, ${ready.poolMax} for the pg baseline`);
    if (measured.size > 0) say(`warming up ${WARMUP_SECONDS} s each`);
    for (const s of scenarios.filter((s) => measured.has(s.name))) await run(s, WARMUP_SECONDS, 'warm-up');

    // Each compared scenario runs right next to its baseline, BENCH_ROUNDS times each, in ABBA order: whatever
    // drifts during the run (CPU frequency, heat, the neighbours of a shared machine, JIT still settling) weighs on
    // both sides alike and neither always goes first. The best run of each side is kept (`best`): on a busy machine
    // noise only ever slows a run down, so the fastest is the closest to what the code can do, and both sides are
    // judged by the same statistic.
    const baselineRuns = new Map<string, Measurement[]>();
    const rows: Row[] = [];
    for (const { scenario, baseline } of comparisons) {
      say(`${scenario.name} against ${baseline.name}, ${settings.BENCH_ROUNDS} × ${settings.BENCH_DURATION} s each`);
      fixtures = await signIn(appUrl, ready.account);
      const own: Measurement[] = [];
      const paired: Measurement[] = [];
      for (let round = 0; round < settings.BENCH_ROUNDS; round++) {
        const order = round % 2 === 0 ? (['baseline', 'scenario'] as const) : (['scenario', 'baseline'] as const);
        for (const side of order) {
          const label = `round ${round + 1}`;
          if (side === 'baseline') paired.push(await run(baseline, settings.BENCH_DURATION, label));
          else own.push(await run(scenario, settings.BENCH_DURATION, label));
        }
      }
      baselineRuns.set(baseline.name, [...(baselineRuns.get(baseline.name) ?? []), ...paired]);
      rows.push(compare(scenario, best(own, scenario), best(paired, baseline)));
    }
    const baselineRows: Row[] = [...baselineRuns.entries()].map(([name, runs]) => {
      const measured = best(
        runs,
        scenarios.find((s) => s.name === name),
      );
      return { measured, target: '', verdict: measured.problem ? 'FAIL' : 'info' };
    });

    // After the comparisons, warm-up included: a thousand connections must not leave their aftermath (sockets
    // closing, a heap grown for them) to a comparison's runs.
    const capacityRows: CapacityRow[] = [];
    for (const scenario of capacity) {
      say(
        `${scenario.name}: ${scenario.connections} connections, ${WARMUP_SECONDS} s warm-up, ${scenario.durationSeconds} s`,
      );
      fixtures = await signIn(appUrl, ready.account);
      await run(scenario, WARMUP_SECONDS, 'warm-up');
      // The servers' process also holds the baselines, idle here: its peak is the app's plus their small footprint.
      const reset = servers.resetPeakRss();
      const m = await run(scenario, scenario.durationSeconds, 'run');
      capacityRows.push(judge(scenario, m, reset ? servers.peakRssBytes() : undefined));
    }

    const reminders = withReminders
      ? await benchReminders(
          {
            databaseUrl: ready.databaseUrl,
            redisUrl: ready.redis.url,
            keyPrefix: `${ready.redis.keyPrefix}reminders:`,
            resultsDir: RESULTS_DIR,
            rounds: settings.BENCH_ROUNDS,
          },
          say,
          (stop) => {
            stopReminders = stop;
          },
        )
      : undefined;

    const bankSync = withBankSync ? await benchBankSync(ready.databaseUrl, say) : undefined;

    const all = [...baselineRows, ...rows];
    if (all.length > 0) say(`\n${table(all)}\n`);
    if (capacityRows.length > 0) say(`\n${capacityTable(capacityRows)}\n`);
    if (reminders) say(`\n${remindersTables(reminders)}\n`);
    for (const row of [...all, ...capacityRows])
      if (row.measured.problem) console.error(`✗ ${row.measured.scenario}: ${row.measured.problem}`);
    const file = path.join(RESULTS_DIR, 'latest.json');
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(file, `${JSON.stringify(summary(all, capacityRows, reminders, settings, ready), null, 2)}\n`);
    say(`written: ${path.relative(ROOT, file)}`);

    const failed = [
      ...[...all, ...capacityRows].filter((row) => row.verdict === 'FAIL').map((row) => row.measured.scenario),
      ...(reminders?.checks.filter((c) => c.verdict === 'FAIL').map((c) => `reminders: ${c.name}`) ?? []),
      ...(bankSync?.failed.map((f) => `bank-sync: ${f}`) ?? []),
    ];
    if (failed.length > 0) console.error(`FAIL: ${failed.join(', ')}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await servers.stop();
  }
}

/**
 * Signs the bench account in, for a fresh access token: one made at the start of a run could expire before its
 * last scenario. A 503 is retried after its Retry-After, as a client would, for at most SIGN_IN_PATIENCE_MS: right
 * after a heavy run the app may still be refusing sign-ins (its login limiter fails closed while Redis is bypassed),
 * and that is not what the next scenario measures.
 */
async function signIn(appUrl: string, account: ServersReady['account']): Promise<Fixtures> {
  const giveUpAt = Date.now() + SIGN_IN_PATIENCE_MS;
  for (;;) {
    const res = await fetch(`${appUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    if (res.status === 200) return { ...account, accessToken: SignedIn.parse(await res.json()).accessToken };
    const body = await res.text();
    // Retry-After in seconds (an HTTP date, which the app never sends, counts as one second).
    const seconds = Number(res.headers.get('retry-after'));
    const retryMs = 1_000 * (Number.isFinite(seconds) && seconds > 0 ? seconds : 1);
    if (res.status !== 503 || Date.now() + retryMs > giveUpAt)
      throw new Error(`signing the bench account in answered ${res.status}: ${body}`);
    say(`  sign-in answered 503; retrying in ${retryMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

/**
 * Waits (at most 5 s) until the servers are idle: the requests a run left in flight when it stopped (a queue of
 * bcrypt comparisons, say) must not be charged to the next run.
 */
async function settle(cpuMicros: () => number | undefined): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const before = cpuMicros();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = cpuMicros();
    if (before === undefined || after === undefined || after - before <= IDLE_CPU_MICROS_PER_100_MS) return;
  }
}

function withFixtures(s: Scenario, fixtures: Fixtures): Load {
  const { headers, body } = s;
  return {
    ...s,
    headers: typeof headers === 'function' ? headers(fixtures) : headers,
    body: typeof body === 'function' ? body(fixtures) : body,
  };
}

/** Pairs every app scenario with its baseline scenario; a wrong name is a mistake in scenarios.ts. */
function plan(list: Scenario[]) {
  const names = new Set<string>();
  for (const s of list) {
    if (names.has(s.name)) throw new Error(`bench/scenarios.ts: two scenarios are named "${s.name}"`);
    names.add(s.name);
  }
  const baselines = new Map(list.filter((s): s is BaselineScenario => s.target !== 'app').map((s) => [s.name, s]));
  return list
    .filter((s): s is AppScenario => s.target === 'app' && !isCapacity(s))
    .map((scenario) => {
      const baseline = baselines.get(scenario.compareTo);
      if (!baseline)
        throw new Error(`bench/scenarios.ts: "${scenario.name}" compares to unknown baseline "${scenario.compareTo}"`);
      return { scenario, baseline };
    });
}

/**
 * The run closest to what the code can do: the most requests a second or, at a fixed rate (where every run serves
 * the same number), the lowest p99. Noise only ever slows a run down, on either side alike.
 */
function best(runs: Measurement[], scenario: Scenario | undefined): Measurement {
  // A run with a problem must not hide behind a clean one: it is reported, and fails the scenario.
  const failing = runs.find((m) => m.problem);
  if (failing) return failing;
  if (scenario?.rate) return runs.reduce((a, b) => (b.p99Ms < a.p99Ms ? b : a));
  return runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
}

function compare(scenario: AppScenario, measured: Measurement, baseline: Measurement): Row {
  const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
  const p99Ratio = measured.p99Ms / baseline.p99Ms;
  const cpuRatio =
    measured.cpuMicrosPerRequest && baseline.cpuMicrosPerRequest
      ? measured.cpuMicrosPerRequest / baseline.cpuMicrosPerRequest
      : undefined;
  const goals = [
    ...(scenario.minRatio === undefined ? [] : [`req/s ≥ ${scenario.minRatio}×`]),
    ...(scenario.maxP99Ratio === undefined ? [] : [`p99 ≤ ${scenario.maxP99Ratio}×`]),
  ];
  const missed =
    (scenario.minRatio !== undefined && !(ratio >= scenario.minRatio)) ||
    (scenario.maxP99Ratio !== undefined && !(p99Ratio <= scenario.maxP99Ratio));
  const broken = Boolean(measured.problem || baseline.problem);
  const verdict = broken || missed ? 'FAIL' : goals.length > 0 ? 'PASS' : 'info';
  return { measured, baseline, ratio, p99Ratio, cpuRatio, target: goals.join(', ') || '—', verdict };
}

/** A capacity run passes with no error, no timeout, every status the expected one, and no wait over its limit. */
function judge(scenario: CapacityScenario, measured: Measurement, peakRss: number | undefined): CapacityRow {
  const slow =
    measured.maxMs > scenario.maxLatencyMs
      ? `a request waited ${Math.round(measured.maxMs)} ms (limit ${scenario.maxLatencyMs} ms)`
      : undefined;
  const problem = [measured.problem, slow].filter(Boolean).join('; ') || undefined;
  return {
    measured: { ...measured, problem },
    connections: scenario.connections,
    peakRssBytes: peakRss,
    target: `no error, max ≤ ${scenario.maxLatencyMs / 1000} s`,
    verdict: problem ? 'FAIL' : 'PASS',
  };
}

function summary(
  rows: Row[],
  capacityRows: CapacityRow[],
  reminders: RemindersResult | undefined,
  settings: z.infer<typeof Settings>,
  ready: ServersReady,
) {
  const cpus = os.cpus();
  return {
    finishedAt: new Date().toISOString(),
    durationSeconds: settings.BENCH_DURATION,
    rounds: settings.BENCH_ROUNDS,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgres: ready.versions.postgres,
      redis: ready.versions.redis,
    },
    settings: { ...ready.settings, DATABASE_POOL_MAX: String(ready.poolMax) },
    results: rows.map((row) => ({
      scenario: row.measured.scenario,
      requestsPerSecond: Math.round(row.measured.requestsPerSecond),
      p50Ms: row.measured.p50Ms,
      p99Ms: row.measured.p99Ms,
      responses: row.measured.responses,
      cpuMicrosPerRequest: row.measured.cpuMicrosPerRequest,
      baseline: row.baseline?.scenario,
      baselineRequestsPerSecond: row.baseline && Math.round(row.baseline.requestsPerSecond),
      baselineP99Ms: row.baseline?.p99Ms,
      ratio: row.ratio,
      p99Ratio: row.p99Ratio,
      cpuRatio: row.cpuRatio,
      target: row.target,
      verdict: row.verdict,
      problem: row.measured.problem ?? row.baseline?.problem,
    })),
    capacity: capacityRows.map(({ measured: m, connections, peakRssBytes, target, verdict }) => ({
      scenario: m.scenario,
      connections,
      requestsPerSecond: Math.round(m.requestsPerSecond),
      p50Ms: m.p50Ms,
      p99Ms: m.p99Ms,
      maxMs: m.maxMs,
      responses: m.responses,
      non2xx: m.non2xx,
      socketErrors: m.socketErrors,
      timeouts: m.timeouts,
      cpuMicrosPerRequest: m.cpuMicrosPerRequest,
      peakRssBytes,
      target,
      verdict,
      problem: m.problem,
    })),
    ...(reminders ? { reminders: remindersSummary(reminders) } : {}),
  };
}

/** Starts bench/servers.ts in its own process and waits for the line that gives its ports. */
async function startServers(): Promise<{
  ready: ServersReady;
  /** CPU time used by the servers' process so far (µs). */
  cpuMicros(): number | undefined;
  /** Starts a new peak of the servers' resident set size; false where it cannot. */
  resetPeakRss(): boolean;
  /** The servers' peak resident set size since the start or the last reset (bytes). */
  peakRssBytes(): number | undefined;
  stop(): Promise<void>;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'servers.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    // stdin stays open: the child shuts itself down when it ends, should this process die without stopping it.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = () => stopChild(child);
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const first = once(lines, 'line') as Promise<[string]>;
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`bench/servers.ts exited (code ${String(code)}) before it was ready`);
    });
    const timedOut = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('bench/servers.ts was not ready in time')), STARTUP_TIMEOUT_MS).unref(),
    );
    const [line] = await Promise.race([first, exited, timedOut]);
    const pid = child.pid;
    if (pid === undefined) throw new Error('bench/servers.ts has no process id');
    return {
      ready: ReadyLine.parse(JSON.parse(line)),
      cpuMicros: () => processCpuMicros(pid),
      resetPeakRss: () => resetPeakRss(pid),
      peakRssBytes: () => peakRssBytes(pid),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function say(line: string) {
  process.stdout.write(`${line}\n`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('bench failed:', err);
    process.exit(1);
  },
);
