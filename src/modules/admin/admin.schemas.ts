import { z } from 'zod';
import { EMAIL_MAX_CHARS, Id, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { AUDIT_ACTIONS, auditEntryFields } from '../audit/audit.schemas.js';
import { User, UserRole, UserStatus } from '../users/users.schemas.js';

export const UserIdParams = z.object({ id: Id.meta({ description: 'The account id' }) });

export const AdminUsersQuery = PageQuery.extend({
  email: text({ trim: true, min: 1, max: EMAIL_MAX_CHARS })
    .optional()
    .meta({ description: 'Only accounts whose email contains this text (case-insensitive)', example: 'example.com' }),
});
export type AdminUsersQuery = z.infer<typeof AdminUsersQuery>;

/** Only `status` and `role`: anything else (an email, a password hash, an id) is a 422, never applied. */
export const AdminUserUpdate = z
  .strictObject({
    status: UserStatus.optional(),
    role: UserRole.optional(),
  })
  .refine((body) => body.status !== undefined || body.role !== undefined, {
    message: 'name at least one of status, role',
  })
  .meta({ id: 'AdminUserUpdate' });
export type AdminUserUpdate = z.infer<typeof AdminUserUpdate>;

export const AuditLogQuery = PageQuery.extend({
  userId: Id.optional().meta({ description: 'Only entries about this account' }),
  action: z.enum(AUDIT_ACTIONS).optional().meta({ description: 'Only entries of this action' }),
});
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;

/** One audit row as admins read it: which fields changed, never their values. */
export const AuditEntry = z
  .object({
    ...auditEntryFields,
    userId: Id.nullable().meta({ description: 'The account the entry is about' }),
    actorId: Id.nullable().meta({
      description: 'Who did it when not the account itself (an admin); null for the operator CLI',
    }),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AdminUserPage = pageOf(User);
export const AuditEntryPage = pageOf(AuditEntry);
