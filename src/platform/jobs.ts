import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from './logger.js';

/**
 * Work outside a request, on BullMQ over the service's Redis (keys under `<REDIS_KEY_PREFIX>jobs:`). A module
 * declares each job once with `defineJob`; the API enqueues it, the worker process (`npm run worker`) runs it.
 */

export interface JobContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  /** True on the last attempt the job has: a failure now is final. */
  final: boolean;
  /** The worker's logger with the job's id and name on every line. */
  logger: Logger;
}

export interface JobSpec<P> {
  /** Unique across the service, `<queue>.<what>`: `reminders.deliver`. */
  name: string;
  /** The queue it runs on: jobs of one queue share its workers and its gauges. */
  queue: string;
  /** Ids, never personal data: a payload sits in Redis and in the failed-jobs list. */
  payload: z.ZodType<P>;
  /** Runs in all, the first included; exponential backoff in between. Default 5. */
  attempts?: number;
  /** The first retry's delay; each next one doubles it. Default 10 s. */
  backoffMs?: number;
  run(payload: P, context: JobContext): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds jobs of every payload type
export type AnyJobSpec = JobSpec<any>;

/** What enqueueing needs of a job: its identity and retry policy, not its handler (the API enqueues, the worker runs). */
export type JobRef<P> = Pick<JobSpec<P>, 'name' | 'queue' | 'payload' | 'attempts' | 'backoffMs'>;

/** Where a job stands, as BullMQ says it. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'unknown';

export function defineJob<P>(spec: JobSpec<P>): JobSpec<P> {
  if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/.test(spec.name))
    throw new Error(`job name ${spec.name}: use <queue>.<what>`);
  if (!spec.name.startsWith(`${spec.queue}.`)) throw new Error(`job ${spec.name} must be named after its queue`);
  return spec;
}

/**
 * A refusal that retrying cannot change (an SMTP 5xx, a push subscription gone): the job fails at once, with `code`
 * kept for the failed-jobs list.
 */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 10_000;
/** Completed jobs are kept a day (for inspection), at most 10,000 per queue; failed ones until retried or pruned. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600 };

/** A failed job's message carries its code first (`invalid-payload: …`), so the list can show the code alone. */
const failure = (code: string, message: string) => `${code}: ${message}`;
export function failureCode(failedReason: string | undefined): string {
  return /^([a-z][a-z0-9-]*): /.exec(failedReason ?? '')?.[1] ?? 'error';
}

/** One job per key: the id is `<name>.<key>`, and BullMQ ignores an add whose id exists. */
function jobOptions<P>(spec: JobRef<P>, key: string): JobsOptions {
  return {
    jobId: `${spec.name}.${key}`,
    attempts: spec.attempts ?? DEFAULT_ATTEMPTS,
    backoff: { type: 'exponential', delay: spec.backoffMs ?? DEFAULT_BACKOFF_MS },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

export interface JobQueueOptions {
  redisUrl: string;
  /** REDIS_KEY_PREFIX; jobs live under `<prefix>jobs`. */
  keyPrefix: string;
}

export type JobQueues = ReturnType<typeof createJobQueues>;

/**
 * How long a producer's command may wait for Redis. Far above REDIS_COMMAND_TIMEOUT_MS: ioredis' timer can fire
 * while an answer that arrived waits behind a busy event loop (ADR 0016), and nothing here is on a request's hot
 * path; it only has to end the wait of a Redis that froze.
 */
const PRODUCER_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The producer side, used by the API and the worker alike. Its connection fails fast: a request that enqueues while
 * Redis is down gets an error at once (no offline queue), and one whose Redis froze gets it after
 * PRODUCER_COMMAND_TIMEOUT_MS, not a hang.
 */
export function createJobQueues({ redisUrl, keyPrefix }: JobQueueOptions) {
  const connection = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS,
  });
  connection.on('error', () => undefined); // reported by readiness and by the callers' errors
  const prefix = `${keyPrefix}jobs`;
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  };

  return {
    prefix,
    queue,
    /**
     * Enqueues `spec` once per `key`: the job id is `<name>.<key>`, and BullMQ ignores an add whose id exists, so the
     * same work enqueued twice (two schedulers, a retried request) is one job.
     */
    async enqueue<P>(spec: JobRef<P>, payload: P, key: string, options: { delayMs?: number } = {}) {
      const data = spec.payload.parse(payload);
      const opts = {
        ...jobOptions(spec as JobRef<unknown>, key),
        ...(options.delayMs ? { delay: options.delayMs } : {}),
      };
      const job = await queue(spec.queue).add(spec.name, data, opts);
      return job.id as string;
    },
    /** The state of the job of `spec` and `key`; `unknown` once it is gone (removed after its retention). */
    async stateOf<P>(spec: JobRef<P>, key: string): Promise<JobState> {
      const state = await queue(spec.queue).getJobState(`${spec.name}.${key}`);
      if (state === 'prioritized' || state === 'waiting-children') return 'waiting';
      return state === 'waiting' ||
        state === 'active' ||
        state === 'delayed' ||
        state === 'completed' ||
        state === 'failed'
        ? state
        : 'unknown';
    },
    /** `enqueue` for many at once, in one round trip; each is still one job per key. */
    async enqueueMany<P>(spec: JobSpec<P>, items: readonly { payload: P; key: string }[]) {
      if (items.length === 0) return;
      await queue(spec.queue).addBulk(
        items.map(({ payload, key }) => ({
          name: spec.name,
          data: spec.payload.parse(payload),
          opts: jobOptions(spec as JobRef<unknown>, key),
        })),
      );
    },
    /** Runs `spec` every `everyMs` from a scheduler kept in Redis: one schedule however many workers start. */
    async schedule<P>(spec: JobSpec<P>, everyMs: number, payload: P) {
      await queue(spec.queue).upsertJobScheduler(
        spec.name,
        { every: everyMs },
        {
          name: spec.name,
          data: spec.payload.parse(payload),
          opts: { attempts: 1, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
        },
      );
    },
    /**
     * Removes the jobs of `spec` not running now (waiting, delayed, failed) whose payload `matches`: an erased
     * account's deliveries. A running one finishes; its handler finds nothing left to act on.
     */
    async removePending<P>(
      spec: Pick<JobSpec<P>, 'name' | 'queue'>,
      matches: (payload: P) => boolean,
    ): Promise<number> {
      const q = queue(spec.queue);
      const PAGE = 1_000;
      const doomed: Job[] = [];
      for (let start = 0; ; start += PAGE) {
        const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized', 'failed'], start, start + PAGE - 1);
        for (const job of jobs) if (job?.name === spec.name && matches(job.data as P)) doomed.push(job);
        if (jobs.length < PAGE) break;
      }
      await Promise.all(doomed.map((job) => job.remove()));
      return doomed.length;
    },
    /** Waiting, active, delayed and failed jobs of each queue used so far (the metrics' gauges). */
    async counts(): Promise<Record<string, { waiting: number; active: number; delayed: number; failed: number }>> {
      const entries = await Promise.all(
        [...queues.entries()].map(async ([name, q]) => {
          const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
          return [
            name,
            { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 },
          ];
        }),
      );
      return Object.fromEntries(entries);
    },
    async unschedule(spec: AnyJobSpec) {
      await queue(spec.queue).removeJobScheduler(spec.name);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

export interface JobWorkerOptions {
  redisUrl: string;
  keyPrefix: string;
  specs: readonly AnyJobSpec[];
  /** Jobs run at once by this process, per queue. */
  concurrency: number;
  logger: Logger;
  /** Told of each finished run: the job metrics. */
  onFinished?: (name: string, seconds: number, outcome: 'completed' | 'failed' | 'retried') => void;
  /** Told of a failure that is not a declared one (a bug): Sentry. */
  onUnexpected?: (err: unknown, job: { id: string; name: string }) => void;
  /** Runs each job inside a trace span when tracing is on (platform/telemetry.ts). */
  trace?: <T>(job: { name: string; queue: string; attempt: number }, run: () => Promise<T>) => Promise<T>;
}

/**
 * The consumer side: one BullMQ worker per queue the specs use. A payload its schema refuses (a deploy changed it
 * while jobs waited) or a job no spec names fails at once with a code, never crashing the process.
 */
export function startJobWorkers(options: JobWorkerOptions) {
  const { specs, logger } = options;
  const byName = new Map(specs.map((s) => [s.name, s]));
  // Blocking commands (BRPOPLPUSH and the like) need a connection that waits through reconnects.
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined); // the worker's readiness reports Redis
  const prefix = `${options.keyPrefix}jobs`;

  const processor = (job: Job) =>
    options.trace
      ? options.trace({ name: job.name, queue: job.queueName, attempt: job.attemptsMade + 1 }, () => runJob(job))
      : runJob(job);
  const runJob = async (job: Job) => {
    const spec = byName.get(job.name);
    if (!spec) throw new UnrecoverableError(failure('unknown-job', `no job is named ${job.name}`));
    const parsed = spec.payload.safeParse(job.data);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(payload)').join(', ');
      throw new UnrecoverableError(failure('invalid-payload', `payload refused by the job's schema at ${fields}`));
    }
    const jobLogger = logger.child({ jobId: job.id, job: job.name });
    const started = performance.now();
    try {
      const attempt = job.attemptsMade + 1;
      const final = attempt >= (job.opts.attempts ?? 1);
      await spec.run(parsed.data, { jobId: job.id as string, attempt, final, logger: jobLogger });
      options.onFinished?.(job.name, (performance.now() - started) / 1000, 'completed');
    } catch (err) {
      const seconds = (performance.now() - started) / 1000;
      if (err instanceof PermanentJobError) {
        options.onFinished?.(job.name, seconds, 'failed');
        jobLogger.warn({ code: err.code }, 'job refused for good');
        throw new UnrecoverableError(failure(err.code, err.message));
      }
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      options.onFinished?.(job.name, seconds, last ? 'failed' : 'retried');
      const message = (err as Error)?.message ?? String(err);
      jobLogger.warn({ err: { message }, attempt: job.attemptsMade + 1 }, last ? 'job failed' : 'job will be retried');
      if (last) options.onUnexpected?.(err, { id: job.id as string, name: job.name });
      throw err;
    }
  };

  const workers = [...new Set(specs.map((s) => s.queue))].map((queue) => {
    const worker = new Worker(queue, processor, { connection, prefix, concurrency: options.concurrency });
    worker.on('error', (err) => logger.warn({ err: { message: err.message }, queue }, 'job worker error'));
    return worker;
  });

  return {
    /** True once every worker is connected and taking jobs. */
    isRunning: () => workers.every((w) => w.isRunning()),
    /**
     * Stops taking jobs and waits for the running ones, at most `deadlineMs`; jobs still running then are left to
     * BullMQ's stalled-job check, which hands them to another worker.
     */
    async close(deadlineMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadlineMs);
      });
      const outcome = await Promise.race([Promise.all(workers.map((w) => w.close())).then(() => 'done'), deadline]);
      clearTimeout(timer);
      if (outcome === 'late') await Promise.all(workers.map((w) => w.close(true)));
      await connection.quit().catch(() => connection.disconnect());
      return outcome === 'done';
    },
  };
}
