import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GOOD_PASSWORD } from '../support/auth.js';
import { type CliResult, runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/postgres.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Pool;
const keyPrefix = `test-${randomBytes(6).toString('hex')}:`;
beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  // end() resolves before its connections have closed, and the database is then dropped WITH (FORCE): a connection
  // the drop ends must not surface as an uncaught error.
  db.on('error', () => undefined);
});
afterAll(async () => {
  await db.end();
  await database.drop();
});

/** The real command in its own process, on this test's database; `stdin` is piped in and closed. */
function adminCreate(args: string[], stdin = ''): Promise<CliResult> {
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl') ?? '',
    REDIS_KEY_PREFIX: keyPrefix,
    BCRYPT_COST: '10',
  };
  return runCli('admin-create', args, env, stdin);
}

const userByEmail = async (email: string) =>
  (await db.query('SELECT id, role, status FROM users WHERE email = $1', [email])).rows[0] as
    | { id: string; role: string; status: string }
    | undefined;

const auditOf = async (userId: string) =>
  (await db.query('SELECT action, actor_id, fields FROM audit_log WHERE user_id = $1 ORDER BY created_at', [userId]))
    .rows;

// Each case spawns a process that loads tsx and the password dictionaries (about two seconds on its own).
describe('npm run admin:create', { timeout: 60_000 }, () => {
  it('when the account exists, promotes it, ends its sessions and audits fields [role] with no actor', async () => {
    const email = `existing-${randomUUID()}@example.com`;
    const { rows } = await db.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [email]);
    const userId = rows[0].id as string;
    const familyId = randomUUID();
    await db.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
      [userId, familyId, randomUUID()],
    );

    const result = await adminCreate(['--email', email.toUpperCase()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`promoted ${email} (id ${userId}) to admin; its sessions ended\n`);
    expect(await userByEmail(email)).toMatchObject({ role: 'admin', status: 'active' });
    expect(await auditOf(userId)).toEqual([{ action: 'admin.user_update', actor_id: null, fields: ['role'] }]);
    const live = await db.query(
      'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL',
      [userId],
    );
    expect(live.rows[0].n).toBe(0);
    const redisUrl = inject('redisUrl');
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      try {
        expect(await redis.get(`${keyPrefix}session:${familyId}`)).toBe('ended');
      } finally {
        redis.disconnect();
      }
    }

    const again = await adminCreate(['--email', email]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already an admin; nothing changed/);
    expect(await auditOf(userId)).toHaveLength(1);
  });

  it('when the account does not exist, creates an admin with the password read from piped stdin', async () => {
    const email = `new-${randomUUID()}@example.com`;
    const result = await adminCreate(['--email', email], `${GOOD_PASSWORD}\n`);
    expect(result.code, result.stderr).toBe(0);
    const user = await userByEmail(email);
    expect(user).toMatchObject({ role: 'admin', status: 'active' });
    expect(result.stdout).toBe(`created admin account ${email} (id ${user?.id})\n`);
    expect(result.stdout + result.stderr).not.toContain(GOOD_PASSWORD);
    expect(await auditOf(user?.id ?? '')).toEqual([{ action: 'auth.register', actor_id: null, fields: [] }]);
    const { rows } = await db.query('SELECT password_hash FROM users WHERE email = $1', [email]);
    expect(rows[0].password_hash).toMatch(/^\$2[aby]\$10\$/);
  });

  it('when the password is weak, says why, exits 1 and creates nothing', async () => {
    const email = `weak-${randomUUID()}@example.com`;
    const result = await adminCreate(['--email', email], 'password1234\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused: Choose a stronger password\n {2}- password /);
    expect(result.stdout + result.stderr).not.toContain('password1234');
    expect(await userByEmail(email)).toBeUndefined();
  });

  it('when stdin holds no password, exits 1 and creates nothing', async () => {
    const email = `empty-${randomUUID()}@example.com`;
    const result = await adminCreate(['--email', email], '');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no password on stdin/);
    expect(await userByEmail(email)).toBeUndefined();
  });

  it('when --email is missing or not an email, prints the usage and exits 2', async () => {
    const cases = [[], ['--email'], ['--email', 'not-an-email'], ['--mail', 'a@example.com']];
    const results = await Promise.all(cases.map((args) => adminCreate(args)));
    for (const [i, result] of results.entries()) {
      expect(result.code, cases[i]?.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/usage: admin-create --email <address>/);
      expect(result.stdout).toBe('');
    }
  });
});
