import type { Queryable } from '../../platform/db-handle.js';
import type { EmailHash } from '../../platform/email-hash.js';
import type { AuditLog } from '../audit/audit.port.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { accountTokensOf, deleteAccountTokensOf } from './account-tokens.repo.js';
import { deleteRefreshTokensOf, findCredentialsById, refreshTokensOf } from './auth.repo.js';
import { EMAIL_AUDIT_TARGET } from './auth.service.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Every refresh token ever issued (one per sign-in or refresh), grouped by session id; never the token hash. The
 * account row itself is the privacy service's: it exports it first and deletes it last. Erasure also removes the
 * audit entries of failed sign-ins to the account's email recorded while it had no account (they carry the email's
 * HMAC rather than a user).
 */
export function createSessionsPrivacySection(deps: { auditLog: AuditLog; emailHash: EmailHash }): PersonalDataSection {
  return {
    name: 'sessions',
    async export(db: Queryable, userId: string) {
      return (await refreshTokensOf(db, userId)).map((r) => ({
        id: r.id,
        sessionId: r.familyId,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: iso(r.lastUsedAt),
        expiresAt: r.expiresAt.toISOString(),
        revokedAt: iso(r.revokedAt),
        replacedById: r.replacedById,
        userAgent: r.userAgent,
        ip: r.ip,
      }));
    },
    async erase(tx: Queryable, userId: string) {
      const account = await findCredentialsById(tx, userId);
      if (account) {
        await deps.auditLog.forgetTargets(tx, EMAIL_AUDIT_TARGET, [deps.emailHash(account.email)]);
      }
      await deleteRefreshTokensOf(tx, userId);
    },
  };
}

/** The tokens mailed for password resets and email verification (purpose and times, never the hash); erased with the account. */
export function createAccountTokensPrivacySection(): PersonalDataSection {
  return {
    name: 'accountTokens',
    async export(db: Queryable, userId: string) {
      return (await accountTokensOf(db, userId)).map((r) => ({
        id: r.id,
        purpose: r.purpose,
        createdAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
        usedAt: iso(r.usedAt),
      }));
    },
    async erase(tx: Queryable, userId: string) {
      await deleteAccountTokensOf(tx, userId);
    },
  };
}
