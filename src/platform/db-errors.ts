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
  | 'missing-row';

const SQLSTATES: Record<string, DbRefusal> = { '23505': 'unique', '23503': 'foreign-key' };
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
