import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, samplesOf } from '../support/prometheus.js';
import { sleep, spawnServerOnTestDatabase } from '../support/server-process.js';

const METRICS_TOKEN = 'metrics-workers-test-0123456789abcdefghijkl';

/** GET on a fresh connection each time, so the cluster spreads the requests over its workers. */
function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** PIDs of the live worker processes of a primary. */
function workerPids(primaryPid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primaryPid), '-f', 'src/main.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Polls `probe` until it gives a value; on timeout, the error carries the end of the server's output. */
async function until<T>(
  what: string,
  probe: () => T | undefined,
  output: () => string = () => '',
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; the server's output ends with:\n${output().slice(-6_000)}`);
}

/** How many processes have logged that their startup completed (each worker logs it once). */
const startupsIn = (output: string) => (output.match(/startup complete/g) ?? []).length;

/**
 * One cluster for every test here, in order: starting one costs three processes' worth of loading, so the tests that
 * only read (the metrics first: it counts every request the cluster has served) come before those that kill workers.
 */
describe('WEB_CONCURRENCY=2', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof spawnServerOnTestDatabase>> | undefined;
  const output = () => server?.output() ?? '';
  beforeAll(async () => {
    server = await spawnServerOnTestDatabase({ WEB_CONCURRENCY: '2', DATABASE_POOL_MAX: '3', METRICS_TOKEN });
  });
  afterAll(() => server?.stop());

  it('/metrics answers with the sum over every worker, whichever worker is scraped', async () => {
    // Both workers must have built their app (the first one alone may have answered the startup probe).
    await until('both workers to start', () => (startupsIn(output()) >= 2 ? true : undefined), output);
    const port = server?.port as number;
    for (let i = 0; i < 30; i++) expect((await get(port, '/health')).status).toBe(200);

    for (let scrape = 0; scrape < 6; scrape++) {
      const res = await get(port, '/metrics', { Authorization: `Bearer ${METRICS_TOKEN}` });
      expect(res.status).toBe(200);
      const samples = parseSamples(res.body);
      const health = samplesOf(samples, 'mingus_http_request_duration_seconds_count', { route: '/health' });
      expect(health.map((s) => s.value)).toEqual([30]);
      // Each worker has its own pool of DATABASE_POOL_MAX connections: two workers, twice the size.
      expect(samplesOf(samples, 'mingus_db_pool_connections_max')[0]?.value).toBe(6);
    }
  });

  it('when started, runs two workers behind one port', async () => {
    const pid = server?.child.pid as number;
    const workers = await until(
      'two workers',
      () => (workerPids(pid).length === 2 ? workerPids(pid) : undefined),
      output,
    );
    expect(workers).toHaveLength(2);
    // The port answers as soon as one worker listens: wait for both, so the next test kills a started worker.
    await until('both workers to start', () => (startupsIn(output()) >= 2 ? true : undefined), output);
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(server?.url('/health') ?? '')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
  });

  it('when a worker crashes, the primary starts a replacement and the port keeps answering', async () => {
    const pid = server?.child.pid as number;
    const [victim, survivor] = workerPids(pid) as [number, number];
    const startupsBefore = startupsIn(output());
    process.kill(victim, 'SIGKILL');
    const replaced = await until(
      'a replacement worker and its log line',
      () => {
        if (!output().includes('worker died')) return undefined;
        const now = workerPids(pid);
        return now.length === 2 && !now.includes(victim) ? now : undefined;
      },
      output,
    );
    expect(replaced).toContain(survivor);
    expect(server?.output()).toContain('worker died: starting a replacement');
    // Counted from the kill: the next "startup complete" is the replacement's.
    await until('the replacement to start', () => (startupsIn(output()) > startupsBefore ? true : undefined), output);
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(server?.url('/health') ?? '')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
  });

  it('when the primary gets SIGTERM, every worker drains and the primary exits 0', async () => {
    const pid = server?.child.pid as number;
    const workers = workerPids(pid);
    server?.child.kill('SIGTERM');
    expect(await server?.exited).toBe(0);
    for (const w of workers) expect(() => process.kill(w, 0)).toThrow();
    expect(server?.output()).toContain('shutdown complete');
  });
});
