import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { apiKeysOf, deleteApiKeysOf } from './api-keys.repo.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Personal API keys, revoked ones included; never the key hash (the key itself is never stored). */
export function createApiKeysPrivacySection(): PersonalDataSection {
  return {
    name: 'apiKeys',
    async export(db: Queryable, userId: string) {
      return (await apiKeysOf(db, userId)).map((r) => ({
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
    erase: deleteApiKeysOf,
  };
}
