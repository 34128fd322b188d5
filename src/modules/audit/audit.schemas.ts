import { z } from 'zod';
import { Id, Instant, IpAddress, JS_ARRAY_MAX_LENGTH } from '../../http/field-schemas.js';

/**
 * Everything the audit log records. Append-only: nothing in the service updates or deletes a row (the maintenance
 * command purges rows past their retention, an erasure removes the user's). Values and secrets are never recorded,
 * only which fields changed.
 */
export const AUDIT_ACTIONS = [
  'auth.register',
  'auth.login',
  'auth.login_failed',
  'auth.login_locked',
  'auth.logout',
  'auth.logout_all',
  'auth.refresh_reuse',
  'auth.session_expired',
  'auth.password_change',
  'auth.password_reset_requested',
  'auth.password_reset',
  'auth.email_verify',
  'auth.api_key_create',
  'auth.api_key_revoke',
  'admin.user_update',
  'admin.job_retry',
  'profile.update',
  'checkin.create',
  'checkin.update',
  'checkin.delete',
  'questionnaire.submit',
  'reminder.create',
  'reminder.update',
  'reminder.complete',
  'reminder.delete',
  'push_subscription.create',
  'push_subscription.delete',
  'privacy.export',
  'privacy.erase',
  'subscription.checkout',
  'subscription.change',
  'bank.link',
  'bank.unlink',
  'bank.sync_failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The stored columns of an entry as the API shows them, bounded as `audit_log` declares them. */
export const auditEntryFields = {
  id: Id,
  action: z.string().max(64).meta({ example: 'admin.user_update' }),
  targetType: z.string().max(64).nullable(),
  targetId: z.string().max(255).nullable(),
  // Names of one resource's fields, written by the code: the widest resource, the profile, has 12.
  fields: z
    .array(z.string().max(64))
    .max(64)
    .meta({ example: ['status'] }),
  ip: IpAddress.nullable(),
  requestId: z.string().max(128).nullable(),
  createdAt: Instant,
};

/**
 * The `auditLog` section of the GDPR export: the entries about the user. One an administrator wrote says so, without
 * the administrator's id or address.
 */
export const AuditLogExport = z
  .array(z.object({ ...auditEntryFields, byAdministrator: z.boolean() }))
  .max(JS_ARRAY_MAX_LENGTH);

/** One entry as a service records it. */
export interface AuditRecord {
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

/**
 * An entry about a row a statement inserts: its user and its id (the target) are read from that row, so the write
 * and its audit entry can be one statement.
 */
export type AuditOfInsert = Omit<AuditRecord, 'userId' | 'targetId'>;

export interface AuditListQuery {
  userId?: string;
  action?: AuditAction;
  limit: number;
  after?: { createdAt: Date; id: string };
}

/** An entry as stored. */
export interface AuditLogRow {
  id: string;
  action: string;
  userId: string | null;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  fields: string[];
  ip: string | null;
  requestId: string | null;
  createdAt: Date;
}
