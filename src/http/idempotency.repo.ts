import { clientOf, type Queryable } from '../platform/db-access.js';

/** The stored record of one Idempotency-Key of one user. */
export interface IdempotencyRecord {
  requestHash: string;
  state: 'in_progress' | 'completed';
  responseStatus: number | null;
  /** `{ enc: <envelope> }`: the answer, encrypted like the rows it came from. */
  responseBody: unknown;
  createdAt: Date;
  expiresAt: Date;
}

export interface IdempotencyClaim {
  userId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Claims the key for a request; false when a record for it already exists (the primary key decides races). */
export async function claimKey(db: Queryable, claim: IdempotencyClaim): Promise<boolean> {
  const { count } = await clientOf(db).idempotencyKey.createMany({ data: [claim], skipDuplicates: true });
  return count === 1;
}

export function findRecord(db: Queryable, userId: string, key: string): Promise<IdempotencyRecord | null> {
  return clientOf(db).idempotencyKey.findUnique({
    where: { userId_key: { userId, key } },
    select: {
      requestHash: true,
      state: true,
      responseStatus: true,
      responseBody: true,
      createdAt: true,
      expiresAt: true,
    },
  });
}

/** Deletes the record claimed at `createdAt` (only that one: a newer claim of the same key is left alone). */
export async function deleteClaim(
  db: Queryable,
  claim: { userId: string; key: string; createdAt: Date; inProgressOnly?: boolean },
): Promise<void> {
  const { userId, key, createdAt } = claim;
  await clientOf(db).idempotencyKey.deleteMany({
    where: { userId, key, createdAt, ...(claim.inProgressOnly ? { state: 'in_progress' } : {}) },
  });
}

/** Stores the answer of the request that claimed the key at `createdAt`, if that claim is still in progress. */
export async function completeClaim(
  db: Queryable,
  claim: { userId: string; key: string; createdAt: Date },
  answer: { status: number; body: { enc: string } },
): Promise<void> {
  await clientOf(db).idempotencyKey.updateMany({
    where: { ...claim, state: 'in_progress' },
    data: { state: 'completed', responseStatus: answer.status, responseBody: answer.body },
  });
}

/** The user's records, oldest first (the GDPR export); never the stored answer. */
export function recordsOf(db: Queryable, userId: string) {
  return clientOf(db).idempotencyKey.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { key: 'asc' }],
    select: {
      key: true,
      method: true,
      path: true,
      state: true,
      responseStatus: true,
      createdAt: true,
      expiresAt: true,
    },
  });
}

export async function deleteRecordsOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).idempotencyKey.deleteMany({ where: { userId } });
}

/** Deletes up to `batch` expired records; answers how many. */
export function purgeExpired(db: Queryable, batch: number, now: Date): Promise<number> {
  return clientOf(db).$executeRaw`DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at < ${now}::timestamptz LIMIT ${batch}))`;
}
