import { ConflictError, NotFoundError, UnprocessableError } from '../../http/errors.js';
import { type Cursors, createdAtPosition } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import type { PasswordHasher } from '../../platform/password-hash.js';
import type { AuditLog } from '../audit/audit.port.js';
import { passwordProblems } from '../auth/password-policy.service.js';
import type { SessionState } from '../auth/session-state.service.js';
import { toUser, type User } from '../users/users.schemas.js';
import { findUser, findUserByEmail, findUsers, insertAdmin, lockUser, setRoleAndStatus } from './admin.repo.js';
import type { AdminUsersQuery, AdminUserUpdate, AuditEntry, AuditLogQuery } from './admin.schemas.js';

export interface AdminServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  sessions: Pick<SessionState, 'revokeAllOf' | 'markEnded'>;
  cursors: Cursors;
  hasher: PasswordHasher;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** What `promoteOrCreateAdmin` did, for the CLI to say. */
export interface AdminBootstrap {
  outcome: 'created' | 'promoted' | 'already-admin';
  user: User;
}

export type AdminService = ReturnType<typeof createAdminService>;

export function createAdminService(deps: AdminServiceDeps) {
  const { db, auditLog, sessions, cursors, hasher } = deps;

  /**
   * Sets role and status, audits the names of the fields that really changed, and revokes every session of the
   * account when it is suspended or its role changes (their access tokens carry the old `role`), all in one
   * transaction; the session cache learns of it only after the commit. `actorId` null: the operator CLI.
   */
  async function applyUpdate(id: string, input: AdminUserUpdate, actorId: string | null, ctx?: RequestContext) {
    const { user, changed, ended } = await db.transaction(async (tx) => {
      const current = await lockUser(tx, id);
      if (!current) throw new NotFoundError('not-found', 'No account has this id');
      const changed = (['status', 'role'] as const).filter((f) => input[f] !== undefined && input[f] !== current[f]);
      // Setting what is already set changes nothing, so it is neither audited nor a reason to sign anyone out.
      if (changed.length === 0) return { user: await findUser(tx, id), changed, ended: [] };
      const user = await setRoleAndStatus(tx, id, input);
      await auditLog.record(tx, {
        action: 'admin.user_update',
        userId: id,
        actorId,
        targetType: 'user',
        targetId: id,
        fields: [...changed],
        ...(ctx ? { ip: ctx.ip, requestId: ctx.requestId } : {}),
      });
      const endsSessions = changed.includes('role') || (changed.includes('status') && input.status === 'suspended');
      return { user, changed, ended: endsSessions ? await sessions.revokeAllOf(tx, id) : [] };
    });
    await sessions.markEnded(ended);
    if (!user) throw new NotFoundError('not-found', 'No account has this id'); // unreachable: the row is locked
    return { user: toUser(user), changed };
  }

  return {
    async listUsers(query: AdminUsersQuery): Promise<Page<User>> {
      const after = cursors.decodeCreatedAt(query.cursor);
      const rows = await findUsers(db, { email: query.email, limit: query.limit, after });
      return cursors.page(rows, query.limit, createdAtPosition, toUser);
    },

    async updateUser(actorId: string, id: string, input: AdminUserUpdate, ctx: RequestContext): Promise<User> {
      // The acting admin always stays an active admin, so the last one can never lock everybody out.
      if (id === actorId) {
        throw new ConflictError('cannot-change-self', 'Admins cannot change their own role or status');
      }
      return (await applyUpdate(id, input, actorId, ctx)).user;
    },

    async auditLog(query: AuditLogQuery): Promise<Page<AuditEntry>> {
      const after = cursors.decodeCreatedAt(query.cursor);
      const rows = await auditLog.list(db, {
        limit: query.limit,
        ...(query.userId ? { userId: query.userId } : {}),
        ...(query.action ? { action: query.action } : {}),
        ...(after ? { after } : {}),
      });
      return cursors.page(rows, query.limit, createdAtPosition, (row) => ({
        id: row.id,
        action: row.action,
        userId: row.userId,
        actorId: row.actorId,
        targetType: row.targetType,
        targetId: row.targetId,
        fields: row.fields,
        ip: row.ip,
        requestId: row.requestId,
        createdAt: row.createdAt.toISOString(),
      }));
    },

    /**
     * `npm run admin:create`: makes `email` an admin. An existing account is promoted (ending its sessions, like
     * any role change); otherwise an account is created with the password `askPassword` supplies, which must pass
     * the same policy as registration.
     */
    async promoteOrCreateAdmin(email: string, askPassword: () => Promise<string>): Promise<AdminBootstrap> {
      const existing = await findUserByEmail(db, email);
      if (existing) {
        if (existing.role === 'admin') return { outcome: 'already-admin', user: toUser(existing) };
        return { outcome: 'promoted', user: (await applyUpdate(existing.id, { role: 'admin' }, null)).user };
      }
      const password = await askPassword();
      const problems = passwordProblems(password, [email], 'password');
      if (problems.length > 0) throw new UnprocessableError('weak-password', 'Choose a stronger password', problems);
      const passwordHash = await hasher.hash(password);
      const user = await db.transaction(async (tx) => {
        const row = await insertAdmin(tx, { email, passwordHash });
        await auditLog.record(tx, { action: 'auth.register', userId: row.id });
        return row;
      });
      return { outcome: 'created', user: toUser(user) };
    },
  };
}
