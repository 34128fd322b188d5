import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth, requireRole } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import { User } from '../users/users.schemas.js';
import {
  AdminUserPage,
  AdminUsersQuery,
  AdminUserUpdate,
  AuditEntryPage,
  AuditLogQuery,
  UserIdParams,
} from './admin.schemas.js';
import type { AdminService } from './admin.service.js';

const tag = 'Admin';

const LIST_USERS = operation({
  operationId: 'adminListUsers',
  tag,
  summary: 'Accounts, newest first',
  replies: { 200: json('A page of accounts', AdminUserPage) },
  problems: ['invalid-cursor'],
});
const UPDATE_USER = operation({
  operationId: 'adminUpdateUser',
  tag,
  summary: "Suspend or reactivate an account, or change its role; ends the account's sessions when it matters",
  description: 'Admins cannot change their own role or status.',
  replies: { 200: json('The updated account', User) },
  problems: ['not-found', 'cannot-change-self', 'session-store-unavailable'],
});
const AUDIT_LOG = operation({
  operationId: 'adminListAuditLog',
  tag,
  summary: 'Audit entries, newest first',
  replies: { 200: json('A page of audit entries', AuditEntryPage) },
  problems: ['invalid-cursor'],
});

/**
 * Administration: signed-in admins only. API keys are refused outright (they are read-only credentials a user
 * hands to scripts; an admin's must not read every account), and cookie sessions need the CSRF token.
 */
export function adminRoutes(svc: AdminService, deps: { csrf: Csrf }): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth({ apiKeys: false }), requireRole('admin'), deps.csrf.protect);

  const listUsers = validate({ query: AdminUsersQuery });
  r.get('/users', LIST_USERS, listUsers, async (req, res) => {
    res.json(await svc.listUsers(listUsers.input(req).query));
  });

  const updateUser = validate({ params: UserIdParams, body: AdminUserUpdate });
  r.patch('/users/:id', UPDATE_USER, updateUser, async (req, res) => {
    const { params, body } = updateUser.input(req);
    res.json(await svc.updateUser(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  const auditLog = validate({ query: AuditLogQuery });
  r.get('/audit-log', AUDIT_LOG, auditLog, async (req, res) => {
    res.json(await svc.auditLog(auditLog.input(req).query));
  });

  return r;
}
