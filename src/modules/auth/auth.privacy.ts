import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { deleteRefreshTokensOf, refreshTokensOf } from './auth.repo.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Every refresh token ever issued (one per sign-in or refresh), grouped by session id; never the token hash. The
 * account row itself is the privacy service's: it exports it first and deletes it last.
 */
export function createSessionsPrivacySection(): PersonalDataSection {
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
    erase: deleteRefreshTokensOf,
  };
}
