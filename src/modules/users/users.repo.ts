import type { DbClient } from '../../platform/db.js';

const PUBLIC = { id: true, email: true, name: true, role: true, status: true, createdAt: true } as const;

export function findUser(db: DbClient, id: string) {
  return db.user.findUnique({ where: { id }, select: PUBLIC });
}

export function updateUserName(db: DbClient, id: string, name: string | null) {
  return db.user.update({ where: { id }, data: { name }, select: PUBLIC });
}
