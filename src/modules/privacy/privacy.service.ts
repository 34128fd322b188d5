import { ForbiddenError, NotFoundError } from '../../http/errors.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import type { Logger } from '../../platform/logger.js';
import type { PasswordHasher } from '../../platform/password-hash.js';
import type { AuditLog } from '../audit/audit.port.js';
import type { SessionState } from '../auth/session-state.service.js';
import type { ErasurePseudonym } from './erasure-pseudonym.js';
import type { PersonalDataSection } from './privacy.port.js';
import {
  deleteAccount,
  deleteAuditEntriesOf,
  findAccount,
  findPasswordHash,
  inErasure,
  inSnapshot,
  lockAccount,
  sessionIdsOf,
} from './privacy.repo.js';
import { EXPORT_SCHEMA_VERSION, type ExportDocument } from './privacy.schemas.js';

export interface PrivacyServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  /** Every module's personal-data section (the registry built in app.ts). */
  sections: readonly PersonalDataSection[];
  hasher: Pick<PasswordHasher, 'verify'>;
  sessions: Pick<SessionState, 'markEnded'>;
  pseudonym: ErasurePseudonym;
  logger: Logger;
  now: () => Date;
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;

const accountGone = () => new NotFoundError('not-found', 'The account no longer exists');

export function createPrivacyService(deps: PrivacyServiceDeps) {
  const { db, auditLog, sections, hasher, sessions, pseudonym, logger, now } = deps;

  return {
    /** Every stored datum of the user, decrypted, as one document (GDPR Art. 15 and 20). The export is audited. */
    async exportData(userId: string, ctx: RequestContext): Promise<ExportDocument> {
      return inSnapshot(db, async (tx) => {
        const account = await findAccount(tx, userId);
        if (!account) throw accountGone();
        // First, in the same transaction: an export is never handed out unaudited, and it lists its own entry.
        await auditLog.record(tx, { action: 'privacy.export', userId, ip: ctx.ip, requestId: ctx.requestId });
        const exported: Record<string, unknown> = {};
        for (const section of sections) exported[section.name] = await section.export(tx, userId);
        return {
          schemaVersion: EXPORT_SCHEMA_VERSION,
          exportedAt: now().toISOString(),
          account: {
            id: account.id,
            email: account.email,
            name: account.name,
            role: account.role,
            status: account.status,
            passwordChangedAt: account.passwordChangedAt?.toISOString() ?? null,
            createdAt: account.createdAt.toISOString(),
            updatedAt: account.updatedAt.toISOString(),
          },
          sections: exported,
        };
      });
    },

    /**
     * Erases the account (GDPR Art. 17): the password confirms it, each section's outside work runs first (a
     * failure there erases nothing), then one transaction deletes every row of the user and leaves one pseudonymous
     * audit entry. Every session ends at once, not when its access token expires.
     */
    async erase(userId: string, password: string, ctx: RequestContext): Promise<void> {
      const hash = await findPasswordHash(db, userId);
      if (hash === undefined) throw accountGone();
      if (!(await hasher.verify(password, hash))) {
        throw new ForbiddenError('invalid-password', 'The password is incorrect; nothing was erased');
      }
      for (const section of sections) await section.beforeErase?.(db, userId);

      const ended = await inErasure(db, async (tx) => {
        if (!(await lockAccount(tx, userId))) throw accountGone();
        const sessionIds = await sessionIdsOf(tx, userId);
        for (const section of sections) await section.erase(tx, userId);
        // Whatever the registry holds, no entry about the user survives: SET NULL would keep them, with their
        // addresses, unattributed but not anonymous.
        await deleteAuditEntriesOf(tx, userId);
        await deleteAccount(tx, userId);
        await auditLog.record(tx, {
          action: 'privacy.erase',
          targetType: 'user-pseudonym',
          targetId: pseudonym(userId),
          fields: sections.map((s) => s.name),
          // No address: it would be the erased user's personal data.
          requestId: ctx.requestId,
        });
        return sessionIds;
      });

      try {
        await sessions.markEnded(ended);
      } catch {
        // Already logged. The erasure stands and the sessions are gone from the database, which every cache miss
        // reads: a stale cached `live` lasts at most a minute, and answering an error now would invite a retry of
        // an erasure that is complete.
        logger.warn({ sessions: ended.length }, 'account erased; its sessions end from the database within a minute');
      }
    },
  };
}
