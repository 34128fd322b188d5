import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createDatabase, type Database, statementNames } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDatabase } from '../support/postgres.js';

describe('statement names', () => {
  it('gives one text one name for good, and each text its own', () => {
    const nameOf = statementNames(10);
    const first = nameOf('SELECT 1 WHERE $1::int = 1');
    expect(first).toMatch(/^mingus_\d+$/);
    expect(nameOf('SELECT 2 WHERE $1::int = 1')).not.toBe(first);
    expect(nameOf('SELECT 1 WHERE $1::int = 1')).toBe(first);
  });

  it('leaves texts past the bound unnamed, so a query with a varying number of placeholders cannot mint names without end', () => {
    const nameOf = statementNames(2);
    const kept = [nameOf('a'), nameOf('b')];
    expect(nameOf('c')).toBe('');
    expect(nameOf('d')).toBe('');
    expect([nameOf('a'), nameOf('b')]).toEqual(kept);
  });
});

/** The statements prepared on the connection that runs this query; with a pool of one, on the only connection. */
async function preparedOnConnection(db: Database): Promise<Array<{ name: string; statement: string }>> {
  return db.rows(Prisma.sql`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE ${'mingus\\_%'}`);
}

describe('queries on a connection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase({ url: database.url, poolMax: 1, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it('are prepared once per connection and then reused, whether Prisma or `rows` sent them', async () => {
    const email = 'prepared@example.test';
    await db.prisma.user.create({ data: { email, passwordHash: 'x' } });
    for (let i = 0; i < 3; i++) {
      expect(await db.prisma.user.findUnique({ where: { email }, select: { email: true } })).toEqual({ email });
      expect(await db.rows(Prisma.sql`SELECT email FROM users WHERE email = ${email}`)).toEqual([{ email }]);
    }

    const prepared = await preparedOnConnection(db);
    const names = prepared.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(prepared.filter((p) => p.statement === 'SELECT email FROM users WHERE email = $1')).toHaveLength(1);
    expect(prepared.filter((p) => /FROM "public"\."users"/.test(p.statement))).not.toHaveLength(0);
  });

  it('run inside an interactive transaction as outside, and a rollback leaves nothing', async () => {
    const email = 'rolled-back@example.test';
    await expect(
      db.transaction(async (tx) => {
        await tx.user.create({ data: { email, passwordHash: 'x' } });
        expect(await tx.user.count({ where: { email } })).toBe(1);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await db.prisma.user.count({ where: { email } })).toBe(0);
  });
});
