import { ConflictError } from '../../http/errors.js';
import type { CreatedAtPosition } from '../../http/pagination.js';
import { clientOf, NEWEST_FIRST, olderThan, type Queryable } from '../../platform/db-access.js';
import { translate } from '../../platform/db-errors.js';

const PUBLIC = { id: true, email: true, name: true, role: true, status: true, createdAt: true } as const;

export type Role = 'user' | 'admin';
export type Status = 'active' | 'suspended';

/** Prisma's `contains` is a LIKE whose pattern it does not escape: `_` in `ann_lee@` would match any character. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Newest first, keyset-paginated on (created_at, id); `limit + 1` rows so the caller knows whether more exist. */
export function findUsers(
  db: Queryable,
  query: { email?: string | undefined; limit: number; after?: CreatedAtPosition | undefined },
) {
  return clientOf(db).user.findMany({
    where: {
      ...(query.email ? { email: { contains: likeLiteral(query.email), mode: 'insensitive' as const } } : {}),
      ...olderThan(query.after),
    },
    orderBy: [...NEWEST_FIRST],
    take: query.limit + 1,
    select: PUBLIC,
  });
}

/**
 * The role and status of an account, row-locked until the transaction ends: two admins changing one account at
 * once apply one after the other, so each sees (and audits) what really changed.
 */
export async function lockUser(tx: Queryable, id: string): Promise<{ role: Role; status: Status } | undefined> {
  const rows = await clientOf(tx).$queryRaw<{ role: Role; status: Status }[]>`
    SELECT role::text AS role, status::text AS status FROM users WHERE id = ${id}::uuid FOR UPDATE`;
  return rows[0];
}

export function findUser(db: Queryable, id: string) {
  return clientOf(db).user.findUnique({ where: { id }, select: PUBLIC });
}

export function setRoleAndStatus(db: Queryable, id: string, data: { role?: Role; status?: Status }) {
  return clientOf(db).user.update({ where: { id }, data, select: PUBLIC });
}

export function findUserByEmail(db: Queryable, email: string) {
  return clientOf(db).user.findUnique({ where: { email }, select: PUBLIC });
}

export async function insertAdmin(db: Queryable, data: { email: string; passwordHash: string }) {
  try {
    return await clientOf(db).user.create({ data: { ...data, role: 'admin' }, select: PUBLIC });
  } catch (err) {
    throw translate(err, {
      unique: () => new ConflictError('email-taken', 'An account with this email already exists'),
    });
  }
}
