import { Prisma } from '../../generated/prisma/client.js';
import { clientOf, execute, NEWEST_FIRST, olderThan, type Queryable } from '../../platform/db-access.js';
import type { AuditListQuery, AuditLogRow, AuditOfInsert, AuditRecord } from './audit.schemas.js';

/** An audit row as a value or as an expression over the row a statement inserted. */
type Value = string | null | Prisma.Sql;

/**
 * The one definition of an audit row: its columns and how an entry fills them (the address cut to the column's 64
 * characters). Every audit write, `insertAudit` and the statements that audit what they insert, is built from it.
 */
function auditRowSql(entry: Omit<AuditRecord, 'userId' | 'targetId'> & { userId: Value; targetId: Value }) {
  const columns: Record<string, Value | string[]> = {
    action: entry.action,
    user_id: entry.userId,
    actor_id: entry.actorId ?? null,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId,
    fields: entry.fields ?? [],
    ip: entry.ip?.slice(0, 64) ?? null,
    request_id: entry.requestId ?? null,
  };
  const values = Object.entries(columns).map(([column, value]) => {
    if (value instanceof Prisma.Sql) return value;
    if (column === 'user_id' || column === 'actor_id') return Prisma.sql`${value}::uuid`;
    if (column === 'fields') return Prisma.sql`${value}::text[]`;
    return Prisma.sql`${value}`;
  });
  return { columns: Prisma.raw(Object.keys(columns).join(', ')), values: Prisma.join(values) };
}

export async function insertAudit(db: Queryable, entry: AuditRecord): Promise<void> {
  const row = auditRowSql({ ...entry, userId: entry.userId ?? null, targetId: entry.targetId ?? null });
  await execute(db, Prisma.sql`INSERT INTO audit_log (${row.columns}) VALUES (${row.values})`);
}

/**
 * The audit entry of the row a data-modifying CTE named `relation` inserted (its `user_id` and `id`), as a statement
 * to run as another CTE of the same statement: the write and its entry commit together in one round trip.
 */
export function auditOfInsertSql(relation: string, entry: AuditOfInsert): Prisma.Sql {
  // A name, never text from input: it goes into the statement as is.
  if (!/^[a-z_]+$/.test(relation)) throw new Error(`not a CTE name: ${relation}`);
  const row = auditRowSql({ ...entry, userId: Prisma.sql`user_id`, targetId: Prisma.sql`id::text` });
  return Prisma.sql`INSERT INTO audit_log (${row.columns}) SELECT ${row.values} FROM ${Prisma.raw(relation)}`;
}

/** Newest first, keyset-paginated on (created_at, id). */
export function listAudit(db: Queryable, query: AuditListQuery): Promise<AuditLogRow[]> {
  return clientOf(db).auditLog.findMany({
    where: {
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...olderThan(query.after),
    },
    orderBy: [...NEWEST_FIRST],
    take: query.limit + 1,
  });
}

/** Every entry about the user, oldest first (the GDPR export). */
export function auditOfUser(db: Queryable, userId: string) {
  return clientOf(db).auditLog.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: {
      id: true,
      action: true,
      actorId: true,
      targetType: true,
      targetId: true,
      fields: true,
      ip: true,
      requestId: true,
      createdAt: true,
    },
  });
}

export async function deleteAuditOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).auditLog.deleteMany({ where: { userId } });
}

/** Deletes the entries about targets that are not users (an email's HMAC, say) of one type and these ids. */
export async function deleteAuditOfTargets(db: Queryable, targetType: string, targetIds: string[]): Promise<void> {
  await clientOf(db).auditLog.deleteMany({ where: { targetType, targetId: { in: targetIds } } });
}

/** Deletes up to `batch` entries older than `days`; answers how many. A short statement, so no lock is held long. */
export function purgeAuditOlderThan(db: Queryable, days: number, batch: number, now: Date): Promise<number> {
  return execute(
    db,
    Prisma.sql`DELETE FROM audit_log WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM audit_log WHERE created_at < ${now}::timestamptz - make_interval(days => ${days}) LIMIT ${batch}))`,
  );
}
