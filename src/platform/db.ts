import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { PrismaClientKnownRequestError } from '../generated/prisma/internal/prismaNamespace.js';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';

export type Database = ReturnType<typeof createDatabase>;
/** What repositories query through: the client itself, or the transaction a use case runs in. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  logger: Logger;
}

/**
 * Distinct statement texts that get a name. Texts come from code, not from input, but Prisma writes one placeholder
 * per list item (`IN` lists, batched `findUnique`), so each list length is a text of its own: the bound stops them
 * from minting names, and plans on every connection, without end.
 */
export const MAX_NAMED_STATEMENTS = 500;

/**
 * The name a statement text is prepared under on each connection (`pg` parses a named statement once per
 * connection and then only binds and executes it), or `''`, the unnamed statement, once `max` texts have names
 * (`onExhausted` is told once). The name is a digest of the text, so a name means the same statement in every
 * process and release: should two processes ever share a server connection (a pooler that does not track
 * prepared statements), the worst is an error, never another process's statement run with our values.
 */
export function statementNames(max: number, onExhausted: () => void = () => {}): (text: string) => string {
  const names = new Map<string, string>();
  let exhausted = false;
  return (text) => {
    let name = names.get(text);
    if (name !== undefined) return name;
    if (names.size >= max) {
      if (!exhausted) onExhausted();
      exhausted = true;
      return '';
    }
    name = `mingus_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
    return name;
  };
}

/**
 * One pg pool shared by Prisma (through the driver adapter) and by the few raw queries the platform runs itself
 * (health pings, migration checks), so pool usage reported by /health/detailed is the whole truth.
 *
 * Every statement with parameters, Prisma's and `rows`', runs as a named prepared statement: PostgreSQL parses and
 * analyses its text once per connection instead of on every call (a quarter of the database's CPU per check-in page,
 * measured: docs/performance.md; ADR 0012). Behind PgBouncer in transaction mode that needs its prepared-statement
 * tracking (docs/operations.md).
 */
export function createDatabase({ url, poolMax, logger }: DatabaseOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // A request waiting for a connection longer than this is better answered with an error than left hanging.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'mingus-api',
  });
  // An idle client losing its connection emits here; unhandled, it would crash the process.
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  keepConnectionsPostgresRefuses(pool);
  const statementName = statementNames(MAX_NAMED_STATEMENTS, () =>
    logger.warn({ max: MAX_NAMED_STATEMENTS }, 'every statement name is taken: new statement texts run unprepared'),
  );
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { statementNameGenerator: (query) => statementName(query.sql) }),
  });

  return {
    pool,
    prisma,
    /** Runs a use case in one transaction: everything it writes commits together or not at all. */
    transaction<T>(work: (tx: DbClient) => Promise<T>): Promise<T> {
      return prisma.$transaction(work);
    },
    /**
     * One statement (written with `Prisma.sql`, so values stay parameters) run on the pool by `pg` itself, outside
     * any transaction, for hot raw-SQL paths: `$queryRaw` costs about 375 µs more CPU than `pg` for a 21-row page
     * (494 against 119 µs, measured). Not for reads by key: under load Prisma batches the `findUnique` calls of one
     * tick into one query, and there it beats `pg` (docs/performance.md). Rows come back as `pg` types them: select
     * text, numbers and timestamps in the shape the caller declares.
     */
    async rows<T>(query: Prisma.Sql): Promise<T[]> {
      const { text, values } = query;
      return (await pool.query({ name: statementName(text), text, values: values as unknown[] })).rows as T[];
    },
    async ping(timeoutMs: number): Promise<void> {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'postgresql');
    },
    poolStats() {
      return { max: poolMax, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    async close(): Promise<void> {
      await prisma.$disconnect();
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * Makes `pool.query` keep the connection when PostgreSQL refuses the statement (severity ERROR: a unique violation,
 * the 409 of a duplicate check-in or e-mail, a failed check): the connection goes back to the pool with its prepared
 * statements. `pg`'s own `pool.query` closes the connection after any error, so every refused statement, Prisma's
 * outside a transaction among them (the driver adapter sends those through `pool.query`), cost the database a new
 * connection: a backend process started, its statements prepared again. A broken connection (a socket error, a
 * FATAL or PANIC) is still closed. Queries with a callback or a submittable (cursors, streams) go to `pg` unchanged.
 */
function keepConnectionsPostgresRefuses(pool: pg.Pool): void {
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const keeping = async (config: string | pg.QueryConfig, values?: unknown[]) => {
    const client = await pool.connect();
    let broken = false;
    // A connection lost mid-query also emits 'error' on its client, which no one else listens to while it is out
    // of the pool: unheard, that event would end the process. The query itself rejects with the same error.
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      return await client.query(config, values);
    } catch (err) {
      broken ||= !(err instanceof pg.DatabaseError && err.severity === 'ERROR');
      throw err;
    } finally {
      client.removeListener('error', lost);
      client.release(broken); // true: the pool closes it
    }
  };
  pool.query = ((...args: unknown[]) => {
    const [config, values, callback] = args;
    const promiseForm =
      (typeof config === 'string' || (typeof config === 'object' && config !== null && !('submit' in config))) &&
      typeof values !== 'function' &&
      callback === undefined;
    return promiseForm
      ? keeping(config as string | pg.QueryConfig, values as unknown[] | undefined)
      : original(...args);
  }) as pg.Pool['query'];
}

/**
 * A `timestamptz(3)` column as the text `Date#toISOString` gives (UTC, milliseconds), formatted by PostgreSQL: a
 * page read through `db.rows` then carries no Date to parse and print again (both showed in the list's profile).
 * Only for the `created_at`/`updated_at` columns every table has, set by `now()`: the two formats agree for years
 * 1–9999 whatever the session's TimeZone or DateStyle, not for BC years, years past 9999 or `infinity`.
 */
export function isoInstant(column: 'created_at' | 'updated_at'): Prisma.Sql {
  return Prisma.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
}

/** The row an update or delete named does not exist (Prisma P2025). */
export function isMissingRow(err: unknown): boolean {
  return err instanceof PrismaClientKnownRequestError && err.code === 'P2025';
}

/**
 * A foreign key refused the write: the row it refers to is gone (P2003 from a model query, SQLSTATE 23503 from raw
 * SQL). In practice, an account erased while one of its requests was still running.
 */
export function isForeignKeyViolation(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '23503';
  if (!(err instanceof PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2003') return true;
  const cause = (
    err.meta as { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } | undefined
  )?.driverAdapterError?.cause;
  return cause?.kind === 'ForeignKeyConstraintViolation' || cause?.originalCode === '23503';
}

/**
 * A unique constraint refused the write: Prisma P2002 from a model query, P2010 ("raw query failed") whose driver
 * error is a UniqueConstraintViolation (SQLSTATE 23505) from $queryRaw, or 23505 itself from `db.rows`. The caller turns it into a 409 of its own.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '23505'; // from `db.rows`
  if (!(err instanceof PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  const cause = (
    err.meta as { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } | undefined
  )?.driverAdapterError?.cause;
  return err.code === 'P2010' && (cause?.kind === 'UniqueConstraintViolation' || cause?.originalCode === '23505');
}

/**
 * Keyset pagination, newest first on (created_at, id): the `where` part that starts after `after`, and the order.
 * The id breaks ties between rows created in the same millisecond, so no row is skipped or shown twice.
 */
export function olderThan(after: { createdAt: Date; id: string } | undefined) {
  if (!after) return {};
  return { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] };
}
export const NEWEST_FIRST = [{ createdAt: 'desc' }, { id: 'desc' }] as const satisfies readonly Record<
  string,
  'desc'
>[];
