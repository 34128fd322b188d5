import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

/**
 * The part of the database only repositories open (the linter's layering rules keep everyone else out): the Prisma
 * client behind a handle, raw statements, and the query-building helpers every repository shares.
 */

/** What a repository queries through once it has opened a handle: the client itself, or a transaction's. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

const HANDLE = Symbol('mingus.db');

interface Opened {
  client: DbClient;
  /** One raw statement; outside a transaction it runs on the pool by `pg` itself (see `createDatabase`). */
  rows<T>(query: Prisma.Sql): Promise<T[]>;
}

/**
 * The database as services, privacy sections and the audit port hold it: the database itself, or the transaction a
 * use case runs in. Opaque: only a repository looks inside (`clientOf`, `rowsOf`), so no Prisma type reaches a
 * service and a service cannot tell, or need to know, which of the two it has.
 */
export interface Queryable {
  readonly [HANDLE]: Opened;
}

/** Wraps a client (and how it runs raw statements) as a handle; `platform/db` is the only caller. */
export function queryable(client: DbClient, rows?: Opened['rows']): Queryable {
  return { [HANDLE]: { client, rows: rows ?? ((query) => client.$queryRaw(query)) } };
}

/** The Prisma client behind a handle: for model queries in repositories. */
export function clientOf(db: Queryable): DbClient {
  return db[HANDLE].client;
}

/**
 * A raw statement written with `Prisma.sql` (values stay parameters). On the database itself it runs on the pool by
 * `pg` directly, the cheaper path for hot reads (ADR 0012, docs/performance.md); inside a transaction, on the
 * transaction's connection through Prisma. Both give the same shapes only for text, int4, float8, bool and uuid
 * columns, so cast to those: counts `::int`, decimals `::float8`, dates `to_char`, instants `isoInstant` (for bigint
 * and numeric `pg` gives strings where Prisma gives BigInt and Decimal).
 */
export function rowsOf<T>(db: Queryable, query: Prisma.Sql): Promise<T[]> {
  return db[HANDLE].rows<T>(query);
}

/** Runs a statement that returns no rows; answers how many rows it changed. */
export function execute(db: Queryable, query: Prisma.Sql): Promise<number> {
  return clientOf(db).$executeRaw(query);
}

/**
 * A `timestamptz(3)` column as the text `Date#toISOString` gives (UTC, milliseconds), formatted by PostgreSQL: a
 * page read through `rowsOf` then carries no Date to parse and print again. Only for the `created_at`/`updated_at`
 * columns every table has, set by `now()`: the two formats agree for years 1–9999 whatever the session's TimeZone
 * or DateStyle, not for BC years, years past 9999 or `infinity`.
 */
export function isoInstant(column: 'created_at' | 'updated_at'): Prisma.Sql {
  return Prisma.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
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
