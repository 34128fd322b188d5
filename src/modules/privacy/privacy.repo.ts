import { clientOf, type Queryable } from '../../platform/db-access.js';
import type { Db } from '../../platform/db-handle.js';

/**
 * Exports and erasures read or delete every table of a user: with many bank transactions that can outlast Prisma's
 * default interactive-transaction timeout of 5 s, which would roll the work back half-way through.
 */
const LONG_TRANSACTION = { maxWaitMs: 5_000, timeoutMs: 60_000 } as const;

/** The account row as the user may see it: every column but the password hash. */
const ACCOUNT = {
  id: true,
  email: true,
  name: true,
  role: true,
  status: true,
  passwordChangedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

export function findAccount(db: Queryable, userId: string) {
  return clientOf(db).user.findUnique({ where: { id: userId }, select: ACCOUNT });
}

export async function findPasswordHash(db: Queryable, userId: string): Promise<string | undefined> {
  const row = await clientOf(db).user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
  return row?.passwordHash;
}

/**
 * Runs an export in one REPEATABLE READ transaction: every section reads the same snapshot, so a check-in written
 * half-way through cannot appear in one section and be missing from another.
 */
export function inSnapshot<T>(db: Db, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(work, { ...LONG_TRANSACTION, isolation: 'repeatable-read' });
}

/** The erasure's one transaction. */
export function inErasure<T>(db: Db, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(work, LONG_TRANSACTION);
}

/**
 * Locks the account row until the erasure commits. A sign-in or refresh inserting a session for this user needs a
 * KEY SHARE lock on the row, so it waits: every session is either in `sessionIdsOf` below or never created. False
 * when the account is already gone.
 */
export async function lockAccount(tx: Queryable, userId: string): Promise<boolean> {
  const rows = await clientOf(tx).$queryRaw<unknown[]>`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
  return rows.length === 1;
}

/** Every session id (refresh-token family) of the user, live or not: each must be marked ended in the cache. */
export async function sessionIdsOf(tx: Queryable, userId: string): Promise<string[]> {
  const rows = await clientOf(tx).refreshToken.findMany({
    where: { userId },
    select: { familyId: true },
    distinct: ['familyId'],
  });
  return rows.map((r) => r.familyId);
}

/** Deletes the account row; foreign keys cascade to any row a section did not erase, and null audit actors. */
export async function deleteAccount(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).user.delete({ where: { id: userId } });
}

export async function deleteAuditEntriesOf(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).auditLog.deleteMany({ where: { userId } });
}
