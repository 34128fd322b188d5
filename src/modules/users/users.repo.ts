import { clientOf, type Queryable } from '../../platform/db-access.js';
import { refusalOf } from '../../platform/db-errors.js';

const PUBLIC = { id: true, email: true, name: true, role: true, status: true, createdAt: true } as const;

export function findUser(db: Queryable, id: string) {
  return clientOf(db).user.findUnique({ where: { id }, select: { ...PUBLIC, emailVerifiedAt: true } });
}

/** The updated account, or null when it no longer exists. */
export async function updateUserName(db: Queryable, id: string, name: string | null) {
  try {
    return await clientOf(db).user.update({ where: { id }, data: { name }, select: PUBLIC });
  } catch (err) {
    if (refusalOf(err) === 'missing-row') return null;
    throw err;
  }
}
