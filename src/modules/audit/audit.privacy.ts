import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { auditOfUser, deleteAuditOf } from './audit.repo.js';

/**
 * Audit entries about the user. An entry written by an administrator (actor set) says so, but keeps the
 * administrator's id and address out: those are the administrator's personal data, not the user's.
 */
export function createAuditLogPrivacySection(): PersonalDataSection {
  return {
    name: 'auditLog',
    async export(db: Queryable, userId: string) {
      return (await auditOfUser(db, userId)).map((r) => {
        const byAdministrator = r.actorId !== null && r.actorId !== userId;
        return {
          id: r.id,
          action: r.action,
          byAdministrator,
          targetType: r.targetType,
          targetId: r.targetId,
          fields: r.fields,
          ip: byAdministrator ? null : r.ip,
          requestId: r.requestId,
          createdAt: r.createdAt.toISOString(),
        };
      });
    },
    // Entries where the user only acted on someone else (an administrator) lose their actor by the foreign key's
    // SET NULL when the account row goes: they belong to the other user's trail.
    erase: deleteAuditOf,
  };
}
