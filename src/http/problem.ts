import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnreachable, refusalOf } from '../platform/db-errors.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { disabledErrorReporter, type ErrorReporter } from '../platform/sentry.js';
import { AppError, HttpError, NotFoundError, UnavailableError, UnprocessableError } from './errors.js';
import { routeTemplate } from './route-template.js';

/** Base of the `type` URIs of our problems; each code is documented under it (docs/errors.md). */
export const PROBLEM_BASE = 'https://docs.mingus.app/problems';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The sole map from an error to an HTTP answer (RFC 9457). Known errors show their detail and field list; anything
 * else is a generic 500 whose stack goes only to the log (and to Sentry when configured), tied to the answer by the
 * request id. Client mistakes (4xx) are neither logged as errors nor reported.
 */
export const problemHandler = (
  logger: Logger,
  errors: ErrorReporter = disabledErrorReporter,
  metrics?: Pick<Metrics, 'dependencyUnavailable'>,
): ErrorRequestHandler => {
  const databaseDown = databaseOutage(logger, metrics);
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const known =
      err instanceof AppError
        ? err
        : (databaseDown(err, req.id) ??
          referenceGone(err, logger, req.id) ??
          invalidText(err, logger, req.id) ??
          clientError(err));
    const status = known ? known.status : 500;
    // A 503 is a declared state, not a fault: its cause is logged where it was decided, once per outage
    // (`databaseOutage`, the Redis guard), never once (with a stack and a Sentry event) per refused request.
    if (!known || (status >= 500 && !(known instanceof UnavailableError))) {
      // The application logger, with its redaction: an error can carry what must not be logged. The access log's
      // line for this request (`request errored`) carries the same request id.
      logger.error({ err, reqId: req.id }, 'request failed');
      const { method, originalUrl: url, headers } = req;
      errors.captureRequestError(err, { id: String(req.id), method, url, route: routeTemplate(req), headers });
    }
    if (known?.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(known.retryAfterSeconds));
    res
      .status(status)
      .type(PROBLEM_CONTENT_TYPE)
      .json({
        type: known ? `${PROBLEM_BASE}/${known.code}` : 'about:blank',
        title: STATUS_CODES[status] ?? 'Error',
        status,
        detail: known ? known.message : 'An unexpected error occurred. Quote the request id when reporting it.',
        instance: req.originalUrl,
        requestId: req.id,
        ...(known?.fields ? { errors: known.fields } : {}),
      });
  };
};

/** After this long without a refusal, the next one starts a new outage (and logs again). */
const OUTAGE_QUIET_MS = 60_000;
/** What a client is told to wait: about the time a restarting PostgreSQL or a failover takes. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * A database that cannot be reached is a 503 the client may retry, not a 500: one error line when an outage starts
 * (the first refusal after a quiet minute), then only the count in `mingus_dependency_unavailable_total`.
 */
function databaseOutage(logger: Logger, metrics: Pick<Metrics, 'dependencyUnavailable'> | undefined) {
  let lastRefusal = Number.NEGATIVE_INFINITY;
  return (err: unknown, reqId: unknown): AppError | undefined => {
    if (!isDatabaseUnreachable(err)) return undefined;
    const now = Date.now();
    if (now - lastRefusal > OUTAGE_QUIET_MS) {
      const { message, code } = err as { message?: unknown; code?: unknown };
      logger.error({ reqId, err: { message, code } }, 'database unreachable: answering 503 until it is back');
    }
    lastRefusal = now;
    metrics?.dependencyUnavailable('postgresql');
    return Object.assign(
      new UnavailableError('database-unavailable', 'The database is unavailable right now; retry shortly'),
      { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
    );
  };
}

/**
 * Errors from libraries (Express itself, parsers, later CSRF and rate-limit middleware) that carry a 4xx `status`
 * are the client's mistake: a generic problem with that status, never a 500. Their own message is not shown.
 */
function clientError(err: unknown): AppError | undefined {
  const { status, statusCode } = (err ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) return undefined;
  return new HttpError(code, 'bad-request', 'The request could not be processed');
}

/**
 * A write that refers to a row deleted meanwhile (an account erased while one of its sessions was still cached as
 * live, for at most a minute): the thing is gone, a 404, not a server fault. Logged, since a bug would look alike.
 */
function referenceGone(err: unknown, logger: Logger, reqId: unknown): AppError | undefined {
  if (refusalOf(err) !== 'foreign-key') return undefined;
  logger.warn({ reqId, err: { message: (err as Error).message } }, 'write refers to a row that no longer exists');
  return new NotFoundError(
    'not-found',
    'A record this request refers to (the account itself, perhaps) no longer exists',
  );
}

/**
 * The last line behind `text()` (field-schemas.ts): a text PostgreSQL cannot store (NUL, SQLSTATE 22021) that reached
 * a statement is the client's 422, not a 500. Logged, since it means a field escaped its schema's check.
 */
function invalidText(err: unknown, logger: Logger, reqId: unknown): AppError | undefined {
  if (refusalOf(err) !== 'invalid-text') return undefined;
  logger.warn({ reqId, err: { message: (err as Error).message } }, 'a text the database cannot store reached it');
  return new UnprocessableError(
    'invalid-text',
    'A text holds a character that cannot be stored, such as a control character; nothing was stored',
  );
}

/** Every request no route answered. */
export const notFound: RequestHandler = (req) => {
  throw new NotFoundError('not-found', `No resource at ${req.method} ${req.path}`);
};
