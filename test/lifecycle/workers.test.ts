import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, spawnServerOnTestDatabase } from '../support/server-process.js';

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

describe('WEB_CONCURRENCY=2', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof spawnServerOnTestDatabase>> | undefined;
  const output = () => server?.output() ?? '';
  beforeAll(async () => {
    server = await spawnServerOnTestDatabase({ WEB_CONCURRENCY: '2' });
  });
  afterAll(() => server?.stop());

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
