import { clientOf, NEWEST_FIRST, olderThan, type Queryable } from '../../platform/db-access.js';
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
export async function lockUserForKeyChange(tx: Queryable, userId: string): Promise<boolean> {
  const rows = await clientOf(tx).$queryRaw<
    unknown[]
  >`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  return rows.length === 1;
}

export function countLiveKeys(db: Queryable, userId: string, now: Date): Promise<number> {
  return clientOf(db).apiKey.count({ where: { userId, revokedAt: null, expiresAt: { gt: now } } });
}

export interface NewApiKey {
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  expiresAt: Date;
}

export function insertApiKey(db: Queryable, key: NewApiKey): Promise<ApiKeyRow> {
  return clientOf(db).apiKey.create({ data: key, select: API_KEY_PUBLIC_COLUMNS });
}

/** Newest first, keyset-paginated on (created_at, id). */
export function listApiKeys(db: Queryable, userId: string, limit: number, after?: { createdAt: Date; id: string }) {
  return clientOf(db).apiKey.findMany({
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
export function findKeyByHash(db: Queryable, keyHash: string) {
  return clientOf(db).apiKey.findUnique({
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
export async function revokeApiKey(db: Queryable, userId: string, id: string, at: Date): Promise<boolean> {
  const { count } = await clientOf(db).apiKey.updateMany({
    where: { id, userId, revokedAt: null },
    data: { revokedAt: at },
  });
  return count === 1;
}

export async function apiKeyExists(db: Queryable, userId: string, id: string): Promise<boolean> {
  return (await clientOf(db).apiKey.findFirst({ where: { id, userId }, select: { id: true } })) !== null;
}

/** Revokes every key of the user not yet revoked (expired ones too: revocation is final); answers their ids. */
export async function revokeApiKeysOf(db: Queryable, userId: string, at: Date): Promise<string[]> {
  const rows = await clientOf(db).$queryRaw<{ id: string }[]>`
    UPDATE api_keys SET revoked_at = ${at} WHERE user_id = ${userId}::uuid AND revoked_at IS NULL RETURNING id`;
  return rows.map((r) => r.id);
}

/** updateMany: a key deleted with its user in the meantime is not an error. */
export async function touchLastUsed(db: Queryable, id: string, at: Date): Promise<void> {
  await clientOf(db).apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
}

/** Every key of the user, revoked ones included, oldest first (the GDPR export); never the hash. */
export function apiKeysOf(db: Queryable, userId: string) {
  return clientOf(db).apiKey.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: API_KEY_PUBLIC_COLUMNS,
  });
}

export async function deleteApiKeysOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).apiKey.deleteMany({ where: { userId } });
}
