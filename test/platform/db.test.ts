import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createDatabase, type Database, statementNames } from '../../src/platform/db.js';
import { clientOf, rowsOf } from '../../src/platform/db-access.js';
import { refusalOf, translate } from '../../src/platform/db-errors.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDatabase } from '../support/postgres.js';

describe('statement names', () => {
  it('gives one text one name for good, and each text its own', () => {
    const nameOf = statementNames(10);
    const first = nameOf('SELECT 1 WHERE $1::int = 1');
    expect(first).toMatch(/^mingus_[0-9a-f]{24}$/);
    expect(nameOf('SELECT 2 WHERE $1::int = 1')).not.toBe(first);
    expect(nameOf('SELECT 1 WHERE $1::int = 1')).toBe(first);
  });

  it('names a text alike in every process, so a name never stands for another statement elsewhere', () => {
    const here = statementNames(10);
    const elsewhere = statementNames(10);
    elsewhere('SELECT 2 WHERE $1::int = 1'); // first seen in another order
    expect(elsewhere('SELECT 1 WHERE $1::int = 1')).toBe(here('SELECT 1 WHERE $1::int = 1'));
  });

  it('leaves texts past the bound unnamed and says so once, so varying placeholder counts cannot mint names without end', () => {
    let told = 0;
    const nameOf = statementNames(2, () => told++);
    const kept = [nameOf('a'), nameOf('b')];
    expect(nameOf('c')).toBe('');
    expect(nameOf('d')).toBe('');
    expect(told).toBe(1);
    expect([nameOf('a'), nameOf('b')]).toEqual(kept);
  });
});

interface Prepared {
  name: string;
  statement: string;
  runs: number;
}

/** The statements prepared on the connection that runs this query; with a pool of one, on the only connection. */
function preparedOnConnection(db: Database): Promise<Prepared[]> {
  return rowsOf<Prepared>(
    db,
    Prisma.sql`
    SELECT name, statement, (generic_plans + custom_plans)::int AS runs
    FROM pg_prepared_statements WHERE name LIKE ${'mingus\\_%'}`,
  );
}

/** The backends of the watching client's database that run a `pg_sleep` statement. */
const SLEEPING = "FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%'";

/** Resolves once a `pg_sleep` statement runs on the server, in the watching client's database. */
async function untilSleeping(watcher: pg.Client): Promise<void> {
  await expect.poll(async () => (await watcher.query(`SELECT 1 ${SLEEPING}`)).rowCount).toBe(1);
}

describe('queries on a connection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  /** The server process of the connection that runs this query; with a pool of one, of the only connection. */
  const backend = () => rowsOf<{ pid: number }>(db, Prisma.sql`SELECT pg_backend_pid() AS pid WHERE ${1}::int = 1`);
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase({ url: database.url, poolMax: 1, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it('are prepared once per connection and then only executed, whether Prisma or a raw statement sent them', async () => {
    const email = 'prepared@example.test';
    await db.prisma.user.create({ data: { email, passwordHash: 'x' } });
    for (let i = 0; i < 3; i++) {
      expect(await db.prisma.user.findUnique({ where: { email }, select: { email: true } })).toEqual({ email });
      expect(await rowsOf(db, Prisma.sql`SELECT email FROM users WHERE email = ${email}`)).toEqual([{ email }]);
    }

    const prepared = await preparedOnConnection(db);
    const raw = prepared.filter((p) => p.statement === 'SELECT email FROM users WHERE email = $1');
    expect(raw).toEqual([expect.objectContaining({ runs: 3 })]);
    const byPrisma = prepared.filter((p) => /^SELECT .*FROM "public"\."users"/.test(p.statement));
    expect(byPrisma.map((p) => p.runs)).toContain(3);
  });

  it('keep their connection and keep working after PostgreSQL refused one, outside a transaction and inside one that rolled back', async () => {
    const email = 'taken@example.test';
    const insert = (address: string) =>
      rowsOf(db, Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${address}, 'x') RETURNING email`);
    await insert(email);
    const [before] = await backend();
    await expect(insert(email)).rejects.toMatchObject({ code: '23505' });
    // Refused, not broken: the connection stays in the pool instead of being replaced by a new one.
    expect(await backend()).toEqual([before]);
    expect(await insert('second@example.test')).toEqual([{ email: 'second@example.test' }]);

    // The same for Prisma's statements outside a transaction, which its driver adapter sends through `pool.query`.
    await expect(db.prisma.user.create({ data: { email, passwordHash: 'x' } })).rejects.toMatchObject({
      code: 'P2002',
    });
    expect(await backend()).toEqual([before]);

    await expect(
      db.transaction(async (tx) => {
        await clientOf(tx).user.create({ data: { email: 'inside@example.test', passwordHash: 'x' } });
        await clientOf(tx).user.create({ data: { email, passwordHash: 'x' } }); // unique violation: the transaction aborts
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    // The same statements, on the same (only) connection, after the rollback.
    await db.prisma.user.create({ data: { email: 'after@example.test', passwordHash: 'x' } });
    expect(
      await db.prisma.user.count({ where: { email: { in: ['inside@example.test', 'after@example.test'] } } }),
    ).toBe(1);
  });

  it('replace a connection the server ends mid-query (FATAL): the query rejects, the next one gets a new connection', async () => {
    const [before] = await backend();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Its refusal is expected from the start: it may arrive before the terminating query's own answer, and a
      // rejection with no handler yet would be reported as unhandled.
      const refused = expect(rowsOf(db, Prisma.sql`SELECT pg_sleep(${10}::float8)`)).rejects.toThrow(/terminat/);
      // Wait until the statement runs on the server, then end that backend from another connection.
      await untilSleeping(admin);
      await admin.query('SELECT pg_terminate_backend($1)', [before?.pid]);
      await refused;
    } finally {
      await admin.end();
    }
    const [after] = await backend();
    expect(after?.pid).toEqual(expect.any(Number));
    expect(after?.pid).not.toBe(before?.pid);
  });

  it('survive a connection whose socket drops mid-query: the query rejects, the process lives on, the next query reconnects', async () => {
    // A TCP relay between the pool and PostgreSQL, so the socket can drop with no word from the server (a network
    // failure): pg then also emits 'error' on the client, which would end the process if no one listened.
    const { hostname, port } = new URL(database.url);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((inbound) => {
      const outbound = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayed = new URL(database.url);
    relayed.host = `127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
    const viaRelay = createDatabase({ url: relayed.toString(), poolMax: 1, logger: createLogger({ level: 'silent' }) });
    const watcher = new pg.Client({ connectionString: database.url });
    await watcher.connect();
    try {
      const refused = expect(rowsOf(viaRelay, Prisma.sql`SELECT pg_sleep(${10}::float8)`)).rejects.toThrow(
        /Connection terminated unexpectedly/,
      );
      await untilSleeping(watcher);
      for (const s of sockets) s.destroy();
      await refused;
      expect(await rowsOf(viaRelay, Prisma.sql`SELECT ${3}::int AS n`)).toEqual([{ n: 3 }]);
      expect(viaRelay.poolStats().total).toBe(1);
    } finally {
      await watcher.query(`SELECT pg_cancel_backend(pid) ${SLEEPING}`);
      await watcher.end();
      await viaRelay.close();
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});

describe('connection lifetime', () => {
  it('when a connection reaches its maximum lifetime, the pool closes it and the next query runs on a new one', async () => {
    const database = await createTestDatabase();
    const db = createDatabase({
      url: database.url,
      poolMax: 1,
      logger: createLogger({ level: 'silent' }),
      maxLifetimeSeconds: 1,
    });
    try {
      const pid = async () => (await db.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const removed = new Promise((resolve) => db.pool.once('remove', resolve));
      const first = await pid();
      await removed; // the pool's own timer ends the connection once it is a second old
      expect(await pid()).not.toBe(first);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

describe('database refusals', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase({ url: database.url, poolMax: 2, logger: createLogger({ level: 'silent' }) });
    await db.prisma.user.create({ data: { email: 'taken@example.test', passwordHash: 'x' } });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  /** The first error `work` rejects with; the test fails if it resolves. */
  const refusal = (work: () => Promise<unknown>) =>
    work().then(
      () => expect.unreachable('the statement was accepted'),
      (err: unknown) => err,
    );
  const missingUser = '00000000-0000-4000-8000-000000000000';

  it.each([
    ['a Prisma model query', () => db.prisma.user.create({ data: { email: 'taken@example.test', passwordHash: 'x' } })],
    [
      'a raw statement through Prisma',
      () => db.prisma.$executeRaw`INSERT INTO users (email, password_hash) VALUES ('taken@example.test', 'x')`,
    ],
    [
      'pg itself',
      () => rowsOf(db, Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${'taken@example.test'}, 'x')`),
    ],
  ])('when a unique constraint refuses a write from %s, it is named unique and translated', async (_path, write) => {
    const err = await refusal(write);
    expect(refusalOf(err)).toBe('unique');
    const answer = new Error('email taken');
    expect(translate(err, { unique: () => answer })).toBe(answer);
    expect(translate(err, { 'foreign-key': () => answer })).toBe(err);
  });

  it.each([
    [
      'a Prisma model query',
      () =>
        db.prisma.apiKey.create({
          data: { userId: missingUser, name: 'k', prefix: 'p', keyHash: 'h', expiresAt: new Date() },
        }),
    ],
    [
      'a raw statement through Prisma',
      () => db.prisma.$executeRaw`INSERT INTO audit_log (user_id, action) VALUES (${missingUser}::uuid, 'auth.login')`,
    ],
    [
      'pg itself',
      () => rowsOf(db, Prisma.sql`INSERT INTO audit_log (user_id, action) VALUES (${missingUser}::uuid, 'auth.login')`),
    ],
  ])('when a foreign key refuses a write from %s, it is named foreign-key', async (_path, write) => {
    expect(refusalOf(await refusal(write))).toBe('foreign-key');
  });

  it.each([
    [
      'a Prisma model query',
      () => db.prisma.user.update({ where: { email: 'taken@example.test' }, data: { name: 'a\u0000b' } }),
    ],
    ['a raw statement through Prisma', () => db.prisma.$executeRaw`UPDATE users SET name = ${'a\u0000b'} WHERE false`],
    ['pg itself', () => rowsOf(db, Prisma.sql`SELECT ${'a\u0000b'}::text AS t`)],
  ])(
    'when PostgreSQL cannot take a text (NUL, SQLSTATE 22021) from %s, it is named invalid-text',
    async (_path, write) => {
      expect(refusalOf(await refusal(write))).toBe('invalid-text');
    },
  );

  it('when a unique constraint refuses a write inside a transaction, it is named unique and nothing of the transaction stays', async () => {
    const err = await refusal(() =>
      db.transaction(async (tx) => {
        await rowsOf(tx, Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${'inside@example.test'}, 'x')`);
        await rowsOf(tx, Prisma.sql`INSERT INTO users (email, password_hash) VALUES (${'taken@example.test'}, 'x')`);
      }),
    );
    expect(refusalOf(err)).toBe('unique');
    expect(await db.prisma.user.count({ where: { email: 'inside@example.test' } })).toBe(0);
  });

  it('when a transaction asks for repeatable read and a time limit, it runs so', async () => {
    const level = await db.transaction(
      async (tx) =>
        (await rowsOf<{ level: string }>(tx, Prisma.sql`SELECT current_setting('transaction_isolation') AS level`))[0]
          ?.level,
      { isolation: 'repeatable-read' },
    );
    expect(level).toBe('repeatable read');
    expect(
      await db.transaction(
        async (tx) =>
          (await rowsOf<{ level: string }>(tx, Prisma.sql`SELECT current_setting('transaction_isolation') AS level`))[0]
            ?.level,
      ),
    ).toBe('read committed');
    await expect(
      db.transaction((tx) => rowsOf(tx, Prisma.sql`SELECT 1 AS one FROM pg_sleep(${1}::float8)`), { timeoutMs: 200 }),
    ).rejects.toThrow(/timeout|expired|closed/i);
  });

  it('when an update names a row that does not exist, it is named missing-row; other failures are not refusals', async () => {
    const missing = await refusal(() => db.prisma.user.update({ where: { id: missingUser }, data: { name: 'x' } }));
    expect(refusalOf(missing)).toBe('missing-row');
    const syntax = await refusal(() => rowsOf(db, Prisma.sql`SELEC 1`));
    expect(refusalOf(syntax)).toBeUndefined();
    expect(translate(syntax, { unique: () => new Error('no') })).toBe(syntax);
    expect(refusalOf(new Error('not from the database'))).toBeUndefined();
  });
});
