import { timingSafeEqual } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import { z } from 'zod';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../http/errors.js';
import type { Cursors } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import { failureCode, type JobQueues } from '../../platform/jobs.js';
import { deadline } from '../../platform/redis-guard.js';
import type { AuditLog } from '../audit/audit.port.js';
import {
  ERROR_MESSAGE_MAX_CHARS,
  type FailedJob,
  type FailedJobsQuery,
  JobId,
  type RetriedJob,
} from './admin.jobs.schemas.js';
import type { Page } from './admin.service.js';

/** What a job's module does before an admin puts one of its failed jobs back to waiting, given the job's payload. */
export type BeforeRetry = (payload: unknown) => Promise<void>;

/**
 * A module's `BeforeRetry` for jobs whose payload `schema` describes: a payload the schema refuses is left alone (the
 * retried job fails again with `invalid-payload`, which is what the admin should see).
 */
export function beforeRetryOf<P>(schema: z.ZodType<P>, prepare: (payload: P) => Promise<void>): BeforeRetry {
  return async (payload) => {
    const parsed = schema.safeParse(payload);
    if (parsed.success) await prepare(parsed.data);
  };
}

export interface AdminJobsDeps {
  db: Db;
  auditLog: AuditLog;
  cursors: Cursors;
  /** The producer side of the job queues; undefined without REDIS_URL (development). */
  queues: Pick<JobQueues, 'queue'> | undefined;
  /** How long one call to the queues may go unanswered (REDIS_COMMAND_TIMEOUT_MS) before the answer is a 503. */
  redisTimeoutMs: number;
  /**
   * Every queue jobs run on, from the job definitions (app.ts). Their order also orders jobs of different queues
   * that failed in the same millisecond.
   */
  queueNames: readonly [string, ...string[]];
  /** By job name (`reminders.deliver`): what must happen before one of its jobs is retried. */
  beforeRetry: Readonly<Record<string, BeforeRetry>>;
}

/** The `errorMessage` of a failure no job declared: its raw message can hold anything, so it stays in the log. */
export const UNEXPECTED_FAILURE_MESSAGE = 'unexpected error; see the worker log for this job id';
/** `failureCode` of a failure no job declared. */
const UNDECLARED = 'error';
const ERROR_CODE_MAX_CHARS = 64;

/** Failed jobs read at a time while looking past the ones that failed in the cursor's millisecond. */
const TIE_SCAN = 16;

/** A failed job as read from its queue: `index` is its place in the queue's failed list (newest first). */
interface Entry {
  queue: string;
  rank: number;
  index: number;
  id: string;
  failedAt: number;
  job: Job;
}

/** Where the next page starts: just after this job. `index` is where it was in its queue's list, as a first guess. */
interface Position {
  failedAt: number;
  queue: string;
  rank: number;
  id: string;
  index: number;
}

export type AdminJobsService = ReturnType<typeof createAdminJobsService>;

/**
 * Failed jobs for admins: the list, newest failure first, and the retry of one. Only the job platform's producer
 * side is used (the worker runs the retried job), and nothing of a job's payload or raw error reaches the answer.
 *
 * The list's cursor is a position, not an offset: the failure time and id of the page's last job (signed like every
 * cursor). BullMQ lists failed jobs by index, newest first, and both ends of that list move while an admin pages
 * through it: new failures push every job down (an offset would show jobs twice) and a retry takes one out (an
 * offset would skip jobs, and retrying from the list is what this list is for). The next page starts at the first
 * job older than the position: found by binary search on the index, or at once where the cursor's own index still
 * holds it (nothing moved).
 */
export function createAdminJobsService(deps: AdminJobsDeps) {
  const { db, auditLog, cursors, queueNames } = deps;
  const beforeRetry = new Map(Object.entries(deps.beforeRetry));
  const rankOf = new Map(queueNames.map((name, rank) => [name, rank]));

  /**
   * Every call to the queues, bounded: BullMQ waits for a connection that has never been ready (Redis down since the
   * API started) instead of failing, and a frozen Redis would hold the request. Unreachable or late: a 503.
   */
  async function redis<T>(work: Promise<T>): Promise<T> {
    let answered = false;
    const tracked = work.finally(() => {
      answered = true;
    });
    try {
      return await deadline(tracked, deps.redisTimeoutMs);
    } catch (err) {
      if (!answered || isRedisUnreachable(err)) {
        throw new UnavailableError('jobs-unavailable', 'The job queues cannot be reached right now; retry shortly');
      }
      throw err;
    }
  }

  function producer() {
    if (!deps.queues) {
      throw new UnavailableError('jobs-unavailable', 'Background jobs are not configured on this server (no Redis)');
    }
    return deps.queues;
  }

  /** The failed list of `queue` from `start` to `end` (inclusive); a job that vanished meanwhile is left out. */
  async function read(queue: Queue, start: number, end: number): Promise<{ ids: string[]; entries: Entry[] }> {
    const ids = await redis(queue.getRanges(['failed'], start, end, false));
    const jobs = await redis(Promise.all(ids.map((id) => queue.getJob(id))));
    const rank = rankOf.get(queue.name) ?? queueNames.length;
    const entries = ids.flatMap((id, k) => {
      const job = jobs[k];
      return job
        ? [{ queue: queue.name, rank, index: start + k, id, failedAt: job.finishedOn ?? job.timestamp, job }]
        : [];
    });
    return { ids, entries };
  }

  /**
   * The first index of `queue`'s failed list whose job is `older` (false then true along the list, which is newest
   * first); the list's length when none is. `hint`: the index to try first.
   */
  async function firstIndex(queue: Queue, older: (failedAt: number) => boolean, hint?: number): Promise<number> {
    const failedAt = async (index: number) => {
      const { entries } = await read(queue, index, index);
      return entries[0]?.failedAt ?? Number.NEGATIVE_INFINITY; // past the end: older than anything
    };
    if (hint !== undefined) {
      const { ids, entries } = await read(queue, Math.max(hint - 1, 0), hint);
      const at = (index: number) => entries.find((e) => e.index === index)?.failedAt;
      const here = at(hint);
      const before = hint === 0 ? Number.POSITIVE_INFINITY : at(hint - 1);
      if (ids.length === (hint === 0 ? 1 : 2) && here !== undefined && before !== undefined) {
        if (older(here) && !older(before)) return hint;
      }
    }
    let low = 0;
    let high = await redis(queue.getFailedCount());
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (older(await failedAt(middle))) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /**
   * Where `queue`'s part of the next page starts. Jobs that failed in the cursor's millisecond are ordered by queue,
   * then by their place in the queue's list: an earlier queue's were shown, a later queue's were not, and in the
   * cursor's own queue those up to the cursor's job were. When that job has left the list meanwhile (retried), its
   * millisecond is shown again: a job twice rather than one missed.
   */
  async function startOf(queue: Queue, after: Position): Promise<number> {
    const rank = rankOf.get(queue.name) ?? queueNames.length;
    if (rank < after.rank) return firstIndex(queue, (t) => t < after.failedAt);
    const sameQueue = queue.name === after.queue;
    const atOrOlder = await firstIndex(queue, (t) => t <= after.failedAt, sameQueue ? after.index : undefined);
    if (!sameQueue) return atOrOlder;
    for (let start = atOrOlder; ; start += TIE_SCAN) {
      const { ids, entries } = await read(queue, start, start + TIE_SCAN - 1);
      for (const entry of entries) {
        if (entry.failedAt !== after.failedAt) return atOrOlder;
        if (entry.id === after.id) return entry.index + 1;
      }
      if (ids.length < TIE_SCAN) return atOrOlder;
    }
  }

  const positionKey = (p: Pick<Position, 'failedAt' | 'index' | 'queue'>) => `${p.failedAt}:${p.index}:${p.queue}`;
  const POSITION_KEY = /^(\d{1,15}):(\d{1,9}):([a-z][a-z0-9-]{0,63})$/;
  const CursorBody = z.tuple([z.string().max(100), JobId]);

  /**
   * The signed cursors of src/http/pagination.ts hold a row's uuid, and job ids are not uuids: this one is checked by
   * signing the position it holds again (the signature is a function of the position alone) and comparing.
   */
  function decodeCursor(cursor: string): Position {
    const invalid = () =>
      new ValidationError('invalid-cursor', 'The cursor is not one this API issued', [
        { path: 'query.cursor', message: 'is not a valid cursor' },
      ]);
    const [body] = cursor.split('.');
    const parsed = CursorBody.safeParse(safeJson(Buffer.from(body ?? '', 'base64url').toString('utf8')));
    if (!parsed.success) throw invalid();
    const [key, id] = parsed.data;
    const match = POSITION_KEY.exec(key);
    const rank = match?.[3] === undefined ? undefined : rankOf.get(match[3]);
    if (!match?.[3] || rank === undefined) throw invalid();
    const signed = Buffer.from(cursors.encode({ key, id }));
    const given = Buffer.from(cursor);
    if (signed.length !== given.length || !timingSafeEqual(signed, given)) throw invalid();
    return { failedAt: Number(match[1]), index: Number(match[2]), queue: match[3], rank, id };
  }

  return {
    queueNames,

    async listFailed(query: FailedJobsQuery): Promise<Page<FailedJob>> {
      const queues = producer();
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const take = query.limit + 1;
      const parts = await Promise.all(
        (query.queue ? [query.queue] : queueNames).map(async (name) => {
          const queue = queues.queue(name);
          const start = after ? await startOf(queue, after) : 0;
          return (await read(queue, start, start + take - 1)).entries;
        }),
      );
      const rows = parts
        .flat()
        .sort((a, b) => b.failedAt - a.failedAt || a.rank - b.rank || a.index - b.index)
        .slice(0, take);
      return cursors.page(rows, query.limit, (e) => ({ key: positionKey(e), id: e.id }), toFailedJob);
    },

    /**
     * Puts a failed job back to waiting. Its module prepares first (a failed reminder delivery is reopened, or the
     * retried job would send nothing), then the audit entry and the move commit together: the transaction waits for
     * the move, so an entry exists exactly when the job moved (unless the commit itself fails after the move).
     */
    async retry(actorId: string, id: string, ctx: RequestContext): Promise<RetriedJob> {
      const queues = producer();
      const job = await findJob(queues, id);
      if (!job) throw new NotFoundError('not-found', 'No job has this id');
      const state = await redis(job.getState());
      if (state === 'unknown') throw new NotFoundError('not-found', 'No job has this id'); // removed meanwhile
      if (state !== 'failed') throw notFailed(state);
      await beforeRetry.get(job.name)?.(job.data);
      await db.transaction(async (tx) => {
        await auditLog.record(tx, {
          action: 'admin.job_retry',
          actorId,
          targetType: 'job',
          targetId: id,
          ...(ctx.ip ? { ip: ctx.ip } : {}),
          requestId: ctx.requestId,
        });
        await redis(job.retry('failed')).catch(async (err: unknown) => {
          if (err instanceof UnavailableError) throw err;
          // Another admin, or an erasure, got there first.
          const now = await redis(job.getState());
          if (now === 'unknown') throw new NotFoundError('not-found', 'No job has this id');
          if (now !== 'failed') throw notFailed(now);
          throw err;
        });
      });
      return { id, state: 'waiting' };
    },
  };

  async function findJob(queues: Pick<JobQueues, 'queue'>, id: string): Promise<Job | undefined> {
    for (const name of queueNames) {
      const job = await redis(queues.queue(name).getJob(id));
      if (job) return job;
    }
    return undefined;
  }
}

function notFailed(state: string) {
  return new ConflictError('job-not-failed', `The job is ${state}, not failed: only a failed job can be retried`);
}

/**
 * The list as admins read it. A declared failure (`<code>: <message>`, written by the job platform from a
 * `PermanentJobError` or its own checks) shows its message, a sentence of our code's; any other failure shows a fixed
 * text, since a raw error message (a driver's, a library's) may quote an address or a payload.
 */
function toFailedJob(entry: Entry): FailedJob {
  const reason = entry.job.failedReason ?? '';
  const code = failureCode(reason);
  const declared = code !== UNDECLARED && code.length <= ERROR_CODE_MAX_CHARS;
  const message = reason.slice(code.length + 2);
  return {
    id: entry.id,
    queue: entry.queue,
    name: entry.job.name,
    attempts: entry.job.attemptsMade,
    errorCode: declared ? code : UNDECLARED,
    errorMessage: declared ? clip(message, ERROR_MESSAGE_MAX_CHARS) : UNEXPECTED_FAILURE_MESSAGE,
    failedAt: new Date(entry.failedAt).toISOString(),
  };
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const REDIS_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A connection that was ready and is lost fails each call at once (no offline queue) with one of these. */
function isRedisUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed/.test(err.message) ||
    (typeof code === 'string' && REDIS_NETWORK_CODES.has(code))
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
