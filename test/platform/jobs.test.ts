import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  type AnyJobSpec,
  createJobQueues,
  defineJob,
  failureCode,
  PermanentJobError,
  startJobWorkers,
} from '../../src/platform/jobs.js';
import { createLogger } from '../../src/platform/logger.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const redisUrl = inject('redisUrl') ?? '';
const logger = createLogger({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Queues and workers under a key prefix of their own: files run in parallel against one Redis. */
function setup(specs: AnyJobSpec[]) {
  const keyPrefix = `test-jobs-${randomBytes(4).toString('hex')}:`;
  const queues = createJobQueues({ redisUrl, keyPrefix });
  const finished: string[] = [];
  const workers = startJobWorkers({
    redisUrl,
    keyPrefix,
    specs,
    concurrency: 2,
    logger,
    onFinished: (name, _s, outcome) => finished.push(`${name}:${outcome}`),
  });
  cleanups.push(
    () => workers.close(1_000),
    () => queues.close(),
  );
  return { queues, workers, finished };
}

const Payload = z.object({ id: z.string().max(64) });

describe.runIf(redisUrl)('jobs', () => {
  it('enqueued twice under one key, run once', async () => {
    const runs: string[] = [];
    const spec = defineJob({
      name: 'test.once',
      queue: 'test',
      payload: Payload,
      run: async ({ id }) => {
        runs.push(id);
      },
    });
    const { queues, finished } = setup([spec]);
    const first = await queues.enqueue(spec, { id: 'a' }, 'a');
    const second = await queues.enqueue(spec, { id: 'a' }, 'a');
    expect(second).toBe(first);
    await expect.poll(() => finished.length, { timeout: 5_000 }).toBe(1);
    expect(runs).toEqual(['a']);
  });

  it('a payload the schema refuses fails at once with invalid-payload, naming the field', async () => {
    const spec = defineJob({ name: 'test.strict', queue: 'test', payload: Payload, run: async () => undefined });
    const { queues } = setup([spec]);
    // A producer of an older or newer deploy: the payload bypasses this schema.
    const job = await queues.queue('test').add('test.strict', { identifier: 1 }, { jobId: 'x', attempts: 5 });
    await expect.poll(async () => (await job.isFailed()) || undefined, { timeout: 5_000 }).toBe(true);
    const failed = await queues.queue('test').getJob('x');
    expect(failed?.attemptsMade).toBe(1);
    expect(failureCode(failed?.failedReason)).toBe('invalid-payload');
    expect(failed?.failedReason).toMatch(/at id/);
  });

  it('a permanent refusal is not retried; a transient failure is, until it succeeds', async () => {
    let transientRuns = 0;
    const refused = defineJob({
      name: 'test.refused',
      queue: 'test',
      payload: Payload,
      run: async () => {
        throw new PermanentJobError('smtp-rejected', 'mailbox unavailable');
      },
    });
    const flaky = defineJob({
      name: 'test.flaky',
      queue: 'test',
      payload: Payload,
      backoffMs: 10,
      run: async () => {
        transientRuns += 1;
        if (transientRuns < 3) throw new Error('connection refused');
      },
    });
    const { queues, finished } = setup([refused, flaky]);
    await queues.enqueue(refused, { id: 'r' }, 'r');
    await queues.enqueue(flaky, { id: 'f' }, 'f');
    await expect.poll(() => finished.includes('test.flaky:completed'), { timeout: 10_000 }).toBe(true);
    expect(transientRuns).toBe(3);
    const job = await queues.queue('test').getJob('test.refused.r');
    expect(job?.attemptsMade).toBe(1);
    expect(failureCode(job?.failedReason)).toBe('smtp-rejected');
  });

  it('on close, stops taking jobs and finishes the one running', async () => {
    let release: () => void = () => undefined;
    const started: string[] = [];
    const done: string[] = [];
    const spec = defineJob({
      name: 'test.slow',
      queue: 'test',
      payload: Payload,
      run: async ({ id }) => {
        started.push(id);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        done.push(id);
      },
    });
    const keyPrefix = `test-jobs-${randomBytes(4).toString('hex')}:`;
    const queues = createJobQueues({ redisUrl, keyPrefix });
    cleanups.push(() => queues.close());
    const workers = startJobWorkers({ redisUrl, keyPrefix, specs: [spec], concurrency: 1, logger });
    await queues.enqueue(spec, { id: '1' }, '1');
    await expect.poll(() => started.length, { timeout: 5_000 }).toBe(1);
    await queues.enqueue(spec, { id: '2' }, '2');
    const closing = workers.close(5_000);
    release();
    expect(await closing).toBe(true);
    expect(done).toEqual(['1']);
    expect(await queues.queue('test').getJobState('test.slow.2')).toBe('waiting');
  });

  it('when Redis freezes, enqueueing and removing fail after the deadline instead of waiting forever', async () => {
    const server = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 6379) });
    const queues = createJobQueues({
      redisUrl: proxy.through(redisUrl),
      keyPrefix: `test-jobs-${randomBytes(4).toString('hex')}:`,
    });
    cleanups.push(
      () => proxy.close(),
      () => queues.close(),
    );
    const spec = defineJob({ name: 'test.frozen', queue: 'test', payload: Payload, run: async () => undefined });
    await queues.enqueue(spec, { id: 'before' }, 'before');
    proxy.hang();
    try {
      for (const attempt of [
        () => queues.enqueue(spec, { id: '1' }, '1'),
        () => queues.removePending(spec, () => true),
      ]) {
        const started = performance.now();
        await expect(attempt()).rejects.toThrow();
        // The deadline (2 s), with room for a loaded machine; without one it would wait for as long as Redis does.
        expect(performance.now() - started).toBeLessThan(2_000 + 2_000);
      }
    } finally {
      proxy.thaw();
    }
  }, 20_000);
});
