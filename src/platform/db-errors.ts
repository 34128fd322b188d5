import pg from 'pg';
import { PrismaClientKnownRequestError } from '../generated/prisma/internal/prismaNamespace.js';

/**
 * The one place that reads database errors. A statement can fail through three paths — a Prisma model query
 * (P-codes), `$queryRaw`/`$executeRaw` (P2010 wrapping the driver's error) and `pg` itself (SQLSTATE) — and each
 * refusal has one name here, whichever path raised it.
 */
export type DbRefusal =
  /** A unique constraint refused the write (SQLSTATE 23505, P2002). */
  | 'unique'
  /** A foreign key refused the write: the row it refers to is gone (23503, P2003). */
  | 'foreign-key'
  /** The row an update or delete named does not exist (P2025). */
  | 'missing-row'
  /**
   * A text the database cannot store in its encoding: NUL, which no PostgreSQL text may hold, or a byte sequence
   * that is not valid UTF-8 (22021), or a character without an equivalent in the encoding (22P05).
   */
  | 'invalid-text';

const SQLSTATES: Record<string, DbRefusal> = {
  '23505': 'unique',
  '23503': 'foreign-key',
  '22021': 'invalid-text',
  '22P05': 'invalid-text',
};
const PRISMA_CODES: Record<string, DbRefusal> = { P2002: 'unique', P2003: 'foreign-key', P2025: 'missing-row' };
const ADAPTER_KINDS: Record<string, DbRefusal> = {
  UniqueConstraintViolation: 'unique',
  ForeignKeyConstraintViolation: 'foreign-key',
};

/** Which refusal `err` is, or undefined for anything else (a broken connection, a bug, not a database error). */
export function refusalOf(err: unknown): DbRefusal | undefined {
  if (err instanceof pg.DatabaseError) return err.code === undefined ? undefined : SQLSTATES[err.code];
  if (!(err instanceof PrismaClientKnownRequestError)) return undefined;
  const byCode = PRISMA_CODES[err.code];
  if (byCode) return byCode;
  // A raw statement's failure (P2010 and kin) carries the driver adapter's classification of the server's error.
  const cause = (
    err.meta as { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } | undefined
  )?.driverAdapterError?.cause;
  if (typeof cause?.kind === 'string' && ADAPTER_KINDS[cause.kind]) return ADAPTER_KINDS[cause.kind];
  return typeof cause?.originalCode === 'string' ? SQLSTATES[cause.originalCode] : undefined;
}

/**
 * What a repository throws for a failed statement: the answer it gave for that refusal (a 409 of its own, say), or
 * the original error untouched. Use as `catch (err) { throw translate(err, { unique: () => new ConflictError(…) }) }`.
 */
export function translate(err: unknown, answers: Partial<Record<DbRefusal, () => Error>>): unknown {
  const refusal = refusalOf(err);
  const answer = refusal === undefined ? undefined : answers[refusal];
  return answer ? answer() : err;
}

/** Socket failures: the server refused, reset or never answered, or its name did not resolve. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
const NAME_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server that is going away or will not take the connection (class 08: connection exceptions), or
 * that cancelled a statement at DATABASE_STATEMENT_TIMEOUT_MS (57014): each a database not answering in time.
 */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[123]$|53300$|57014$)/;
/**
 * pg's own words for a connection it could not make or lost, or a statement the server never answered; Prisma's for
 * a transaction that got no connection in time (P2028).
 */
const POOL_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Transaction API error: Unable to start a transaction in the given time)/;
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1017']);
const ADAPTER_UNREACHABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);

/**
 * Whether `err` says the database cannot be reached now (down, restarting, refusing connections, out of them), as
 * opposed to a statement it refused or a bug: the request deserves a 503 and a retry, not a 500. Looks through up
 * to three `cause`s, as pg-pool and the Prisma adapter wrap the socket's error.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || NAME_CODES.has(code))) return true;
    if (current instanceof pg.DatabaseError && UNAVAILABLE_SQLSTATES.test(current.code ?? '')) return true;
    if (POOL_MESSAGES.test(current.message)) return true;
    if (current instanceof PrismaClientKnownRequestError) {
      if (PRISMA_UNREACHABLE.has(current.code)) return true;
      const cause = (
        current.meta as { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } | undefined
      )?.driverAdapterError?.cause;
      if (typeof cause?.kind === 'string' && ADAPTER_UNREACHABLE.has(cause.kind)) return true;
      if (typeof cause?.originalCode === 'string' && UNAVAILABLE_SQLSTATES.test(cause.originalCode)) return true;
    }
    current = current.cause;
  }
  return false;
}
