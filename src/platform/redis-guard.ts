import type { Logger } from './logger.js';
import type { RedisClient } from './redis.js';

/**
 * A Redis command did not get an answer: Redis is bypassed (the circuit is open), it did not answer in time, or the
 * connection failed. Callers choose their fallback (read the database, let the request through, answer 503); the
 * guard has logged the outage once, so they do not log it again.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export interface RedisGuardOptions {
  redis: RedisClient;
  logger: Logger;
  /** How long a command may go unanswered while this process is free to read the answer (ms). */
  commandTimeoutMs: number;
  /** Consecutive unanswered commands that open the circuit. */
  failuresToOpen?: number;
  /** While open, how often a PING asks whether Redis answers again (ms). */
  probeIntervalMs?: number;
  /** Told when the circuit opens (true) and closes (false): a gauge. */
  onStateChange?: (open: boolean) => void;
}

export type RedisGuard = ReturnType<typeof guardRedis>;

/**
 * Every Redis command of the application goes through `run`, which gives it two properties ioredis alone does not.
 *
 * A deadline that only a silent Redis can miss. ioredis' `commandTimeout` is a timer, and timers run before the
 * event loop reads its sockets: after a long synchronous stretch (password checks, a burst of requests) it fires
 * although the answer is already waiting, unread. Here the verdict is given in `setImmediate`, after the loop has read
 * what arrived, and a timer that fired late (the process was busy, not Redis) grants a short grace first.
 *
 * A circuit breaker. A frozen Redis would cost every request the whole deadline; after `failuresToOpen` unanswered
 * commands in a row, or at once when the connection reports an error, the circuit opens: commands fail immediately
 * with `RedisUnavailableError` and the callers take their fallback. A PING every `probeIntervalMs` (or the client
 * reconnecting) closes it again. One warning when it opens, naming the error; one line when it closes.
 *
 * An error Redis sent back (a reply such as NOSCRIPT or WRONGTYPE) proves Redis is answering: it passes through
 * unchanged and counts as an answer.
 */
export function guardRedis(options: RedisGuardOptions) {
  const { redis, logger, commandTimeoutMs } = options;
  const failuresToOpen = options.failuresToOpen ?? 3;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  let openedAt: number | undefined;
  let failures = 0;
  let lastConnectionError: string | undefined;
  let probe: NodeJS.Timeout | undefined;

  function open(reason: string) {
    if (openedAt !== undefined) return;
    openedAt = Date.now();
    logger.warn({ err: { message: reason } }, 'redis unavailable: bypassing it until it answers again');
    options.onStateChange?.(true);
    probe = setInterval(probeOnce, probeIntervalMs).unref();
  }

  function close() {
    failures = 0;
    lastConnectionError = undefined;
    if (openedAt === undefined) return;
    logger.info({ outageMs: Date.now() - openedAt }, 'redis answering again');
    openedAt = undefined;
    clearInterval(probe);
    options.onStateChange?.(false);
  }

  let probing = false;
  function probeOnce() {
    if (probing) return;
    probing = true;
    deadline(redis.ping(), commandTimeoutMs)
      .then(close, () => undefined)
      .finally(() => {
        probing = false;
      });
  }

  redis.on('error', (err: Error) => {
    lastConnectionError = err.message;
    open(err.message);
  });
  redis.on('ready', close);
  // Closed for good (quit): nothing left to probe.
  redis.on('end', () => clearInterval(probe));

  return {
    /** Runs `command` against Redis under the deadline and the circuit; see the function's description. */
    async run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
      if (openedAt !== undefined) throw new RedisUnavailableError('redis is bypassed until it answers again');
      try {
        const result = await deadline(command(redis), commandTimeoutMs);
        failures = 0;
        return result;
      } catch (err) {
        if (isReply(err)) {
          failures = 0;
          throw err;
        }
        const message = (err as Error)?.message ?? String(err);
        failures += 1;
        if (failures >= failuresToOpen) open(lastConnectionError ?? message);
        throw new RedisUnavailableError(message, { cause: err });
      }
    },
    /** True while commands are refused without being sent. */
    get bypassed(): boolean {
      return openedAt !== undefined;
    },
  };
}

/** An error Redis itself sent back, as opposed to a connection failing or a command going unanswered. */
function isReply(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ReplyError';
}

/**
 * Rejects when `promise` has not settled `ms` after the call, counting only time this process was free to read the
 * answer. The verdict waits for `setImmediate`, after the poll phase has read what arrived. A timer that fired late
 * by more than a quarter of `ms` means the event loop was blocked, possibly before the command even left (ioredis
 * writes on the next tick): it grants one grace of a quarter of `ms`, room for an answer to a command written late.
 */
export function deadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  const grace = ms / 4;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const verdict = () =>
      setImmediate(() => {
        if (!settled) reject(new Error(`redis did not answer within ${ms} ms`));
      });
    const due = performance.now() + ms;
    let timer = setTimeout(() => {
      if (performance.now() - due > grace) timer = setTimeout(verdict, grace);
      else verdict();
    }, ms);
    promise.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
