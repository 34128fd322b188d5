import { type DbClient, NEWEST_FIRST, olderThan } from '../../platform/db.js';

/**
 * Everything the audit log records. Append-only: nothing in the service updates or deletes a row (the maintenance
 * command purges rows past their retention). Values and secrets are never recorded, only which fields changed.
 */
export const AUDIT_ACTIONS = [
  'auth.register',
  'auth.login',
  'auth.login_failed',
  'auth.login_locked',
  'auth.logout',
  'auth.logout_all',
  'auth.refresh_reuse',
  'auth.password_change',
  'auth.api_key_create',
  'auth.api_key_revoke',
  'admin.user_update',
  'profile.update',
  'checkin.create',
  'checkin.update',
  'checkin.delete',
  'questionnaire.submit',
  'reminder.create',
  'reminder.update',
  'reminder.complete',
  'reminder.delete',
  'privacy.export',
  'privacy.erase',
  'subscription.checkout',
  'subscription.change',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: AuditAction;
  /** The user the entry is about. */
  userId?: string | null;
  /** Who did it, when not the user themself (an admin) or not only them. */
  actorId?: string | null;
  targetType?: string;
  targetId?: string;
  /** Names of the fields that changed; never their values. */
  fields?: string[];
  ip?: string;
  requestId?: string;
}

export async function recordAudit(db: DbClient, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      action: entry.action,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      fields: entry.fields ?? [],
      ip: entry.ip?.slice(0, 64) ?? null,
      requestId: entry.requestId ?? null,
    },
  });
}

export interface AuditQuery {
  userId?: string;
  action?: AuditAction;
  limit: number;
  after?: { createdAt: Date; id: string };
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listAudit(db: DbClient, query: AuditQuery) {
  return db.auditLog.findMany({
    where: {
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...olderThan(query.after),
    },
    orderBy: [...NEWEST_FIRST],
    take: query.limit + 1,
  });
}
