import { type DbClient, isMissingRow } from '../../platform/db.js';

const PUBLIC = { id: true, email: true, name: true, role: true, status: true, createdAt: true } as const;

export function findUser(db: DbClient, id: string) {
  return db.user.findUnique({ where: { id }, select: PUBLIC });
}

/** The updated account, or null when it no longer exists. */
export async function updateUserName(db: DbClient, id: string, name: string | null) {
  try {
    return await db.user.update({ where: { id }, data: { name }, select: PUBLIC });
  } catch (err) {
    if (isMissingRow(err)) return null;
    throw err;
  }
}
