import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.js';
import { type Queryable, queryable } from './db-access.js';
import type { Db, TransactionOptions } from './db-handle.js';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';

export type { Db, Queryable, TransactionOptions } from './db-handle.js';

export type Database = ReturnType<typeof createDatabase>;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  logger: Logger;
  /**
   * Requests' bounds: the longest a statement may run and the longest the wait for a connection. Tools that run
   * long statements on purpose (key rotation, maintenance, migrations) leave them unset.
   */
  timeouts?: { statementMs: number; connectionWaitMs: number };
  /**
   * A connection older than this is closed once it is released, and a new one opens when needed: a failover or a
   * rotated certificate or password reaches every connection within this time. Unset: connections live on.
   */
  maxLifetimeSeconds?: number;
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
 * Every statement with parameters, Prisma's and the raw ones', runs as a named prepared statement: PostgreSQL parses and
 * analyses its text once per connection instead of on every call (ADR 0012; figures in docs/performance.md). Behind PgBouncer in transaction mode that needs its prepared-statement
 * tracking (docs/operations.md).
 */
/** How much longer than the server's statement timeout the client waits: the server's own error comes first. */
const STATEMENT_GRACE_MS = 500;

export function createDatabase({ url, poolMax, logger, timeouts, maxLifetimeSeconds }: DatabaseOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // A request waiting for a connection longer than this is better answered with an error (503) than left hanging.
    connectionTimeoutMillis: timeouts?.connectionWaitMs ?? 5_000,
    // Enforced by the server (statement_timeout) and by the client (query_timeout): a server that froze enforces
    // nothing, and the client's own timer still ends the wait a moment later.
    ...(timeouts
      ? { statement_timeout: timeouts.statementMs, query_timeout: timeouts.statementMs + STATEMENT_GRACE_MS }
      : {}),
    idleTimeoutMillis: 30_000,
    ...(maxLifetimeSeconds ? { maxLifetimeSeconds } : {}),
    application_name: 'mingus-api',
  });
  // An idle client losing its connection emits here; unhandled, it would crash the process. Once `close` has begun
  // it is expected: pg-pool's end() resolves before its connections have closed, so a PostgreSQL stopped right
  // after (the embedded one, at shutdown) ends them under the pool, which is no failure.
  let closing = false;
  pool.on('error', (err) => {
    if (!closing) logger.error({ err }, 'idle database connection failed');
  });
  keepConnectionsPostgresRefuses(pool);
  const statementName = statementNames(MAX_NAMED_STATEMENTS, () =>
    logger.warn({ max: MAX_NAMED_STATEMENTS }, 'every statement name is taken: new statement texts run unprepared'),
  );
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { statementNameGenerator: (query) => statementName(query.sql) }),
  });

  /**
   * Raw statements outside a transaction run on the pool by `pg` itself: for a page of rows that is far cheaper
   * than `$queryRaw` (figures in docs/performance.md). Reads by key stay with Prisma, which batches the `findUnique`
   * calls of one tick into one query.
   */
  const rows = async <T>(query: Prisma.Sql): Promise<T[]> => {
    const { text, values } = query;
    return (await pool.query({ name: statementName(text), text, values: values as unknown[] })).rows as T[];
  };

  const db = {
    ...queryable(prisma, rows),
    pool,
    /** For tests and tools that inspect or seed tables; application code goes through repositories. */
    prisma,
    transaction<T>(work: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
      // Prisma waits at most `maxWait` (2 s by default) for the transaction's connection, whatever the pool's own
      // wait: past the pool's, so that a pool out of connections fails the way every other query does.
      const maxWait = options.maxWaitMs ?? (timeouts ? timeouts.connectionWaitMs + STATEMENT_GRACE_MS : undefined);
      return prisma.$transaction((tx) => work(queryable(tx)), {
        ...(options.isolation ? { isolationLevel: ISOLATION[options.isolation] } : {}),
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
        ...(maxWait ? { maxWait } : {}),
      });
    },
    async ping(timeoutMs: number): Promise<void> {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'postgresql');
    },
    poolStats() {
      return { max: poolMax, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    async close(): Promise<void> {
      closing = true;
      await prisma.$disconnect();
      if (!pool.ended) await pool.end();
    },
  };
  return db satisfies Db;
}

const ISOLATION = { 'repeatable-read': 'RepeatableRead', serializable: 'Serializable' } as const;

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
