import type { DbClient } from '../../platform/db.js';
import { API_KEY_PUBLIC_COLUMNS } from '../api-keys/api-keys.repo.js';
import type { PersonalDataSection } from './privacy.registry.js';

/**
 * The identity module's personal data beside the account row itself (which the privacy service exports and deletes
 * last): sessions, API keys, the audit entries about the user and the stored idempotent answers. Secrets stay out:
 * no token or key hash.
 */

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Every refresh token ever issued (one per sign-in or refresh), grouped by session id; never the token hash. */
export function createSessionsPrivacySection(): PersonalDataSection {
  return {
    name: 'sessions',
    async export(db: DbClient, userId: string) {
      const rows = await db.refreshToken.findMany({
        where: { userId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: {
          id: true,
          familyId: true,
          createdAt: true,
          lastUsedAt: true,
          expiresAt: true,
          revokedAt: true,
          replacedById: true,
          userAgent: true,
          ip: true,
        },
      });
      return rows.map((r) => ({
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
    async erase(tx: DbClient, userId: string) {
      await tx.refreshToken.deleteMany({ where: { userId } });
    },
  };
}

/** Personal API keys, revoked ones included; never the key hash (the key itself is never stored). */
export function createApiKeysPrivacySection(): PersonalDataSection {
  return {
    name: 'apiKeys',
    async export(db: DbClient, userId: string) {
      const rows = await db.apiKey.findMany({
        where: { userId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: API_KEY_PUBLIC_COLUMNS,
      });
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        scopes: r.scopes,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: iso(r.lastUsedAt),
        expiresAt: iso(r.expiresAt),
        revokedAt: iso(r.revokedAt),
      }));
    },
    async erase(tx: DbClient, userId: string) {
      await tx.apiKey.deleteMany({ where: { userId } });
    },
  };
}

/**
 * Audit entries about the user. An entry written by an administrator (actor set) says so, but keeps the
 * administrator's id and address out: those are the administrator's personal data, not the user's.
 */
export function createAuditLogPrivacySection(): PersonalDataSection {
  return {
    name: 'auditLog',
    async export(db: DbClient, userId: string) {
      const rows = await db.auditLog.findMany({
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
      return rows.map((r) => {
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
    async erase(tx: DbClient, userId: string) {
      // Entries where the user only acted on someone else (an administrator) lose their actor by the foreign key's
      // SET NULL when the account row goes: they belong to the other user's trail.
      await tx.auditLog.deleteMany({ where: { userId } });
    },
  };
}

/**
 * Idempotency records of the last 24 h. The stored answer is left out: it copies data the other sections export,
 * and the answer to creating an API key holds the key itself, a secret shown once.
 */
export function createIdempotencyPrivacySection(): PersonalDataSection {
  return {
    name: 'idempotencyKeys',
    async export(db: DbClient, userId: string) {
      const rows = await db.idempotencyKey.findMany({
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
      return rows.map((r) => ({
        key: r.key,
        method: r.method,
        path: r.path,
        state: r.state,
        responseStatus: r.responseStatus,
        createdAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
      }));
    },
    async erase(tx: DbClient, userId: string) {
      await tx.idempotencyKey.deleteMany({ where: { userId } });
    },
  };
}

/** The identity sections, in the order the export document lists them. */
export function createIdentityPrivacySections(): PersonalDataSection[] {
  return [
    createSessionsPrivacySection(),
    createApiKeysPrivacySection(),
    createAuditLogPrivacySection(),
    createIdempotencyPrivacySection(),
  ];
}
