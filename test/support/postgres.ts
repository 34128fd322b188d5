import pg from 'pg';
import { inject } from 'vitest';

/** The same server URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let counter = 0;
/** The next database, cloned ahead of need: see `createTestDatabase`. */
let spare: Promise<string> | undefined;

function cloneTemplate(): Promise<string> {
  const name = `mingus_test_${inject('runId')}_${process.pid}_${++counter}`;
  return admin(inject('pgServerUrl'), (c) =>
    c.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`),
  ).then(() => name);
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database and waits until it is gone. */
  drop(): Promise<void>;
  /**
   * Drops the database without waiting: for teardown, where nothing looks at it again. A drop that fails or is cut
   * short by the worker's exit is finished by the run's teardown, which drops every database of the run.
   */
  release(): void;
}

/**
 * A new database cloned from the migrated template: isolated, dropped by `drop()` or `release()` (or at the run's
 * end). Cloning takes the server about as long as a test file's setup would wait for it, so each worker process
 * keeps one clone in the making for its next caller; the last one of each worker is dropped by the teardown.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const next = spare ?? cloneTemplate();
  spare = cloneTemplate();
  // Taken (and its error seen) by the next caller, if there is one; otherwise the teardown drops it.
  spare.catch(() => undefined);
  const name = await next;
  const server = inject('pgServerUrl');
  const drop = () =>
    admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  return {
    url: withDatabase(server, name),
    name,
    drop,
    release() {
      drop().catch(() => undefined);
    },
  };
}
