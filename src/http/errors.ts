import type { ProblemCode, ProblemCodeOf } from './problems.js';

/** One problem with one field of a request, as listed in a problem+json `errors` array. */
export interface FieldError {
  /** Where the problem is, e.g. `body.email` or `query.limit`. */
  path: string;
  message: string;
}

/**
 * The one error family services throw. Each subclass has one status; `code` becomes the problem `type` URI and
 * `message` its `detail`, so it must be safe to show a client. Nothing here knows Express.
 */
export abstract class AppError<C extends ProblemCode = ProblemCode> extends Error {
  abstract readonly status: number;
  /** Sent as `Retry-After` (429, 503) when set. */
  readonly retryAfterSeconds?: number;
  constructor(
    readonly code: C,
    detail: string,
    readonly fields?: FieldError[],
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError<ProblemCodeOf<400>> {
  readonly status = 400;
}
export class UnauthorizedError extends AppError<ProblemCodeOf<401>> {
  readonly status = 401;
}
export class ForbiddenError extends AppError<ProblemCodeOf<403>> {
  readonly status = 403;
}
export class NotFoundError extends AppError<ProblemCodeOf<404>> {
  readonly status = 404;
}
export class ConflictError extends AppError<ProblemCodeOf<409>> {
  readonly status = 409;
}
/** The request is well-formed JSON of the right shape, but its values break a rule (RFC 9110 §15.5.21). */
export class UnprocessableError extends AppError<ProblemCodeOf<422>> {
  readonly status = 422;
}
/** A dependency (database, Redis, Stripe, Plaid) cannot serve right now; clients may retry. */
export class UnavailableError extends AppError<ProblemCodeOf<503>> {
  readonly status = 503;
}

/**
 * Errors raised by the HTTP plumbing itself (body parser, method guard) carry their own status; the problem
 * handler accepts them through this shape rather than through more subclasses.
 */
export class HttpError<S extends number = number> extends AppError<ProblemCodeOf<S>> {
  constructor(
    readonly status: S,
    code: ProblemCodeOf<S>,
    detail: string,
  ) {
    super(code, detail);
  }
}
