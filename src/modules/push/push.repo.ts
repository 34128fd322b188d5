import { Prisma } from '../../generated/prisma/client.js';
import { clientOf, execute, type Queryable, rowsOf } from '../../platform/db-access.js';

/**
 * Serialises subscription changes per user for the rest of the transaction, so two concurrent registrations cannot
 * both pass the cap. NO KEY UPDATE, not UPDATE: it does not block the KEY SHARE locks that inserting rows referencing
 * the user (sessions, audit entries) take. False when the user does not exist.
 */
export async function lockUserForSubscriptionChange(tx: Queryable, userId: string): Promise<boolean> {
  const rows = await clientOf(tx).$queryRaw<
    unknown[]
  >`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  return rows.length === 1;
}

/** The owner of the subscription at `endpoint`, its row locked until the transaction ends; undefined when none. */
export async function lockEndpoint(
  tx: Queryable,
  endpoint: string,
): Promise<{ id: string; userId: string } | undefined> {
  const rows = await rowsOf<{ id: string; userId: string }>(
    tx,
    Prisma.sql`SELECT id, user_id AS "userId" FROM push_subscriptions WHERE endpoint = ${endpoint} FOR UPDATE`,
  );
  return rows[0];
}

export interface SubscriptionWrite {
  /** The id of a new row (the keys are bound to it); a row already at the endpoint keeps its own. */
  id: string;
  userId: string;
  endpoint: string;
  keysEnc: string;
  at: Date;
}

/**
 * Stores the subscription at its endpoint, or moves the one there to `userId` with the new keys: one device, one
 * row. ON CONFLICT rather than insert-or-update in two steps, so a registration racing another of the same endpoint
 * updates instead of failing on the unique index. The id stays when the row exists.
 */
export async function upsertSubscription(tx: Queryable, s: SubscriptionWrite): Promise<string> {
  const rows = await rowsOf<{ id: string }>(
    tx,
    Prisma.sql`INSERT INTO push_subscriptions (id, user_id, endpoint, keys_enc, created_at)
      VALUES (${s.id}::uuid, ${s.userId}::uuid, ${s.endpoint}, ${s.keysEnc}, ${s.at})
      ON CONFLICT (endpoint) DO UPDATE
        SET user_id = EXCLUDED.user_id, keys_enc = EXCLUDED.keys_enc, created_at = EXCLUDED.created_at
      RETURNING id`,
  );
  const [row] = rows;
  if (!row) throw new Error('upsert returned no row');
  return row.id;
}

/** Replaces the keys of subscription `id` (encrypted again for it). */
export async function setSubscriptionKeys(tx: Queryable, id: string, keysEnc: string): Promise<void> {
  await execute(tx, Prisma.sql`UPDATE push_subscriptions SET keys_enc = ${keysEnc} WHERE id = ${id}::uuid`);
}

/**
 * Deletes the user's subscriptions beyond the newest `keep`, never `protectedId` (the one just registered, which a
 * frozen clock could tie with older ones); answers the ids deleted.
 */
export async function deleteBeyond(tx: Queryable, userId: string, keep: number, protectedId: string) {
  const rows = await rowsOf<{ id: string }>(
    tx,
    Prisma.sql`DELETE FROM push_subscriptions WHERE id IN (
        SELECT id FROM push_subscriptions WHERE user_id = ${userId}::uuid
        ORDER BY (id = ${protectedId}::uuid) DESC, created_at DESC, id DESC
        OFFSET ${keep}::int)
      RETURNING id`,
  );
  return rows.map((r) => r.id);
}

/** Newest first: the list is bounded by the cap, so it is one page. */
export function listSubscriptions(db: Queryable, userId: string, limit: number) {
  return clientOf(db).pushSubscription.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit,
    select: { id: true, endpoint: true, createdAt: true },
  });
}

/** Deletes a subscription of `userId`; false when there is none (unknown, or another user's). */
export async function deleteSubscriptionOf(db: Queryable, userId: string, id: string): Promise<boolean> {
  const { count } = await clientOf(db).pushSubscription.deleteMany({ where: { id, userId } });
  return count === 1;
}

/** What sending needs: the endpoint and the encrypted keys, of every subscription of the user. */
export function deliveryRowsOf(db: Queryable, userId: string) {
  return clientOf(db).pushSubscription.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, userId: true, endpoint: true, keysEnc: true },
  });
}

/** deleteMany: a subscription already gone (deleted by its user meanwhile) is not an error. */
export async function deleteSubscription(db: Queryable, id: string): Promise<void> {
  await clientOf(db).pushSubscription.deleteMany({ where: { id } });
}

/** Every subscription of the user, oldest first (the GDPR export); never the keys. */
export function subscriptionsOf(db: Queryable, userId: string) {
  return clientOf(db).pushSubscription.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, endpoint: true, createdAt: true },
  });
}

export async function deleteSubscriptionsOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).pushSubscription.deleteMany({ where: { userId } });
}
