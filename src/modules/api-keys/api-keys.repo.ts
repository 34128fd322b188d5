import { type DbClient, NEWEST_FIRST, olderThan } from '../../platform/db.js';
import type { ApiKeyRow } from './api-keys.schemas.js';

/** What leaves the repository about a key; `keyHash` stays here and in the lookup below. */
export const API_KEY_PUBLIC_COLUMNS = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
} as const;

/**
 * Serialises key creation per user for the rest of the transaction, so two concurrent creates cannot both pass the
 * live-key cap. NO KEY UPDATE, not UPDATE: it does not block the KEY SHARE locks that inserting rows referencing the
 * user (sessions, audit entries) take. False when the user does not exist.
 */
export async function lockUserForKeyChange(tx: DbClient, userId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  return rows.length === 1;
}

export function countLiveKeys(db: DbClient, userId: string, now: Date): Promise<number> {
  return db.apiKey.count({
    where: { userId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
  });
}

export interface NewApiKey {
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  expiresAt: Date | null;
}

export function insertApiKey(db: DbClient, key: NewApiKey): Promise<ApiKeyRow> {
  return db.apiKey.create({ data: key, select: API_KEY_PUBLIC_COLUMNS });
}

/** Newest first, keyset-paginated on (created_at, id). */
export function listApiKeys(db: DbClient, userId: string, limit: number, after?: { createdAt: Date; id: string }) {
  return db.apiKey.findMany({
    where: {
      userId,
      ...olderThan(after),
    },
    orderBy: [...NEWEST_FIRST],
    take: limit + 1,
    select: API_KEY_PUBLIC_COLUMNS,
  });
}

/** A key by the hash of its secret, with what authentication needs of its owner. */
export function findKeyByHash(db: DbClient, keyHash: string) {
  return db.apiKey.findUnique({
    where: { keyHash },
    select: {
      id: true,
      userId: true,
      scopes: true,
      expiresAt: true,
      revokedAt: true,
      user: { select: { role: true, status: true } },
    },
  });
}

/** Revokes a live key of `userId`; false when there is none (unknown, another user's, or already revoked). */
export async function revokeApiKey(db: DbClient, userId: string, id: string, at: Date): Promise<boolean> {
  const { count } = await db.apiKey.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: at } });
  return count === 1;
}

export async function apiKeyExists(db: DbClient, userId: string, id: string): Promise<boolean> {
  return (await db.apiKey.findFirst({ where: { id, userId }, select: { id: true } })) !== null;
}

/** updateMany: a key deleted with its user in the meantime is not an error. */
export async function touchLastUsed(db: DbClient, id: string, at: Date): Promise<void> {
  await db.apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
}
