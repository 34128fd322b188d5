import type { RequestContext } from '../../http/request-context.js';
import type { Queryable } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import { revokeApiKeysOf } from './api-keys.repo.js';

/**
 * Revoking every API key of an account, for the events that end all of its access (password change or reset,
 * signing out everywhere): a key made with a stolen session must not outlive the owner taking the account back. A
 * port of its own, not the keys service, so the auth service can call it inside its transaction without the two
 * services depending on each other (the keys service asks the auth service to confirm a password).
 */
export interface ApiKeyRevocation {
  /** Revokes them in the caller's transaction, one `auth.api_key_revoke` entry each; answers how many. */
  revokeAllOf(tx: Queryable, userId: string, ctx: RequestContext): Promise<number>;
}

export function createApiKeyRevocation(deps: { auditLog: AuditLog; now: () => Date }): ApiKeyRevocation {
  return {
    async revokeAllOf(tx, userId, ctx) {
      const ids = await revokeApiKeysOf(tx, userId, deps.now());
      for (const id of ids) {
        await deps.auditLog.record(tx, {
          action: 'auth.api_key_revoke',
          userId,
          targetType: 'api_key',
          targetId: id,
          ip: ctx.ip,
          requestId: ctx.requestId,
        });
      }
      return ids.length;
    },
  };
}
