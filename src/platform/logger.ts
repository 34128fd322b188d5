import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Request bodies are never logged, but errors and
 * vendor payloads can carry the same names, so the list covers both shapes.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["stripe-signature"]',
  'req.headers["plaid-verification"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.secret',
  '*.connectionString',
  'password',
  'token',
  'accessToken',
  'refreshToken',
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout when absent. Tests and the bench pass a stream or a file destination. */
  destination?: DestinationStream;
  /** Fields added to every line at the time it is written: the active trace and span, when tracing is on. */
  fields?: () => Record<string, string> | undefined;
}

/**
 * An error as a log line holds it. Call sites that want the message alone (no stack: an expected outage, not a bug)
 * pass `{ message }`, which keeps its message; anything else that is not an Error is stringified.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) {
    const message = (err as { message?: unknown } | null)?.message;
    return { message: typeof message === 'string' ? message : String(err) };
  }
  const { code } = err as { code?: unknown };
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: err.stack,
    ...(err.cause !== undefined ? { cause: serializeError(err.cause) } : {}),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'mingus-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // pino's standard error serializer copies every property of an error; driver errors carry the command and its
      // arguments (ioredis) or the offending row (PostgreSQL's `detail`). Keep what diagnoses, never the data.
      serializers: { err: serializeError },
      ...(options.fields ? { mixin: () => options.fields?.() ?? {} } : {}),
    },
    // One write(2) per line, on this thread: a startup, crash or shutdown line is out at once, and nothing is lost
    // in a crash. `sync: false` without a buffer sent every line through libuv's thread pool and back, which at a
    // few requests in flight cost more than the write; buffering them (minLength) held startup lines back
    // (ADR 0011, which also gives the price: a stdout nobody reads blocks this thread).
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
