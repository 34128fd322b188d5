import type { Queryable } from './db-access.js';

/**
 * The database as services, privacy sections, ports and middleware hold it: nothing in it is Prisma's or `pg`'s, and
 * only repositories open it (platform/db-access.ts). The database itself (`platform/db.ts`) is built by the entry
 * points and handed in; the linter keeps modules and src/http from importing it.
 */
export type { Queryable } from './db-access.js';

/** How a transaction runs, when the default (READ COMMITTED, Prisma's 5 s limit) does not fit the use case. */
export interface TransactionOptions {
  isolation?: 'repeatable-read' | 'serializable';
  /** The longest the transaction may run before it is rolled back. */
  timeoutMs?: number;
  /** The longest it may wait for a connection. */
  maxWaitMs?: number;
}

/** A handle to pass to repositories, and transactions whose handle goes to them too. */
export interface Db extends Queryable {
  /** Runs a use case in one transaction: everything it writes commits together or not at all. */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
}
