import { afterEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { closeRedis, createRedis, type RedisClient, waitForRedis } from '../../src/platform/redis.js';
import { guardRedis, RedisUnavailableError } from '../../src/platform/redis-guard.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const redisUrl = inject('redisUrl');
const TIMEOUT_MS = 100;

/** Keeps the event loop busy for `ms`, as a password check or a burst of requests does. */
function busyFor(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning: nothing else runs
  }
}

/** Lets the client write the commands issued so far (ioredis flushes its pipeline on the next tick). */
const sent = () => new Promise((resolve) => setImmediate(resolve));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A guarded client, through a proxy the test controls when asked for, with its log lines captured. */
async function guarded(options: { proxied?: boolean; failuresToOpen?: number } = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  const target = new URL(redisUrl ?? '');
  const proxy = options.proxied
    ? await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
    : undefined;
  const redis = createRedis({ url: proxy ? proxy.through(redisUrl ?? '') : (redisUrl ?? ''), logger });
  cleanups.push(async () => {
    await closeRedis(redis);
    await proxy?.close();
  });
  expect(await waitForRedis(redis, 2_000)).toBe(true);
  const states: boolean[] = [];
  const guard = guardRedis({
    redis,
    logger,
    commandTimeoutMs: TIMEOUT_MS,
    probeIntervalMs: 50,
    onStateChange: (open) => states.push(open),
    ...(options.failuresToOpen ? { failuresToOpen: options.failuresToOpen } : {}),
  });
  const logs = () => lines.map((line) => JSON.parse(line) as { msg: string; err?: { message: string } });
  return { guard, redis, proxy, states, logs };
}

const key = (name: string) => `mingus-test-guard:${process.pid}:${name}`;
const timed = async <T>(work: () => Promise<T>) => {
  const started = performance.now();
  const outcome = await work().then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  return { ...outcome, ms: performance.now() - started };
};

describe.runIf(redisUrl)('the Redis guard, with a healthy Redis', () => {
  it('does not fail commands whose answers arrived while the process was busy past the deadline', async () => {
    const { guard, states } = await guarded();
    await guard.run((r) => r.set(key('busy'), 'v'));
    const reads = Array.from({ length: 20 }, () => guard.run((r) => r.get(key('busy'))));
    await sent();
    busyFor(TIMEOUT_MS * 4);
    expect(await Promise.all(reads)).toEqual(Array(20).fill('v'));
    // Sent after the busy stretch began: the command leaves only once it ends, with its timer already overdue.
    const late = guard.run((r) => r.get(key('busy')));
    busyFor(TIMEOUT_MS * 4);
    expect(await late).toBe('v');
    expect(states).toEqual([]);
  });

  it('while ioredis’ own command timeout fails those same commands (why the deadline is the guard’s)', async () => {
    const logger = createLogger({ level: 'silent' });
    const redis: RedisClient = createRedis({ url: redisUrl ?? '', logger, backstopTimeoutMs: TIMEOUT_MS });
    cleanups.push(() => closeRedis(redis));
    await waitForRedis(redis, 2_000);
    const reads = Array.from({ length: 20 }, () =>
      redis.get(key('busy')).then(
        () => 'answered',
        () => 'timed out',
      ),
    );
    await sent();
    busyFor(TIMEOUT_MS * 4);
    expect(await Promise.all(reads)).toContain('timed out');
  });

  it('passes errors Redis itself answers through, without taking Redis for unavailable', async () => {
    const { guard, states } = await guarded();
    for (let i = 0; i < 5; i++) {
      await expect(guard.run((r) => r.call('NO-SUCH-COMMAND'))).rejects.toThrow(/unknown command/i);
    }
    expect(guard.bypassed).toBe(false);
    expect(await guard.run((r) => r.ping())).toBe('PONG');
    expect(states).toEqual([]);
  });
});

describe.runIf(redisUrl)('the Redis guard, when Redis freezes', () => {
  it('fails commands after the deadline, then bypasses Redis at once, logs the outage once, and closes when Redis answers again', async () => {
    const { guard, proxy, states, logs } = await guarded({ proxied: true });
    proxy?.hang();

    const first = await Promise.all([1, 2, 3].map(() => timed(() => guard.run((r) => r.get(key('frozen'))))));
    for (const attempt of first) {
      expect(attempt.ok).toBe(false);
      expect(attempt.ok || attempt.err).toBeInstanceOf(RedisUnavailableError);
      expect(attempt.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    }
    expect(guard.bypassed).toBe(true);
    const bypassed = await timed(() => guard.run((r) => r.get(key('frozen'))));
    expect(bypassed.ok).toBe(false);
    expect(bypassed.ms).toBeLessThan(TIMEOUT_MS / 2);

    const outages = logs().filter((l) => l.msg === 'redis unavailable: bypassing it until it answers again');
    expect(outages).toHaveLength(1);
    expect(outages[0]?.err?.message).toBe(`redis did not answer within ${TIMEOUT_MS} ms`);

    proxy?.thaw();
    await expect.poll(() => guard.bypassed, { timeout: 5_000 }).toBe(false);
    expect(await guard.run((r) => r.ping())).toBe('PONG');
    expect(logs().filter((l) => l.msg === 'redis answering again')).toHaveLength(1);
    expect(states).toEqual([true, false]);
  });

  it('does not open on fewer unanswered commands than its threshold', async () => {
    const { guard, proxy } = await guarded({ proxied: true, failuresToOpen: 3 });
    proxy?.hang();
    await Promise.all([1, 2].map(() => guard.run((r) => r.get(key('two'))).catch(() => undefined)));
    expect(guard.bypassed).toBe(false);
    proxy?.thaw();
    // An answer resets the count: two more misses later still do not open it.
    await guard.run((r) => r.ping());
    proxy?.hang();
    await Promise.all([1, 2].map(() => guard.run((r) => r.get(key('two'))).catch(() => undefined)));
    expect(guard.bypassed).toBe(false);
    proxy?.thaw();
  });
});

describe.runIf(redisUrl)('the Redis guard, when the connection to Redis fails', () => {
  it('bypasses Redis as soon as the connection reports the error, naming it, and closes once the client reconnects', async () => {
    const { guard, proxy, states, logs } = await guarded({ proxied: true });
    proxy?.cut();
    await expect.poll(() => guard.bypassed, { timeout: 5_000 }).toBe(true);
    const attempt = await timed(() => guard.run((r) => r.get(key('cut'))));
    expect(attempt.ok).toBe(false);
    expect(attempt.ms).toBeLessThan(TIMEOUT_MS / 2);
    const outages = logs().filter((l) => l.msg === 'redis unavailable: bypassing it until it answers again');
    expect(outages).toHaveLength(1);
    expect(outages[0]?.err?.message).toMatch(/ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed/);

    proxy?.restore();
    await expect.poll(() => guard.bypassed, { timeout: 10_000 }).toBe(false);
    expect(await guard.run((r) => r.ping())).toBe('PONG');
    expect(states).toEqual([true, false]);
  });
});
