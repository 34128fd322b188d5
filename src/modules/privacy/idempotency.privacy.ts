import { deleteRecordsOf, recordsOf } from '../../http/idempotency.repo.js';
import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from './privacy.port.js';

/**
 * Idempotency records of the last 24 h. The stored answer is left out: it copies data the other sections export,
 * and the answer to creating an API key holds the key itself, a secret shown once.
 */
export function createIdempotencyPrivacySection(): PersonalDataSection {
  return {
    name: 'idempotencyKeys',
    async export(db: Queryable, userId: string) {
      return (await recordsOf(db, userId)).map((r) => ({
        key: r.key,
        method: r.method,
        path: r.path,
        state: r.state,
        responseStatus: r.responseStatus,
        createdAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
      }));
    },
    erase: deleteRecordsOf,
  };
}
