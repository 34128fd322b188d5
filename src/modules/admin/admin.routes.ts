import { Router } from 'express';
import { principalOf, requireAuth, requireRole } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { AdminUsersQuery, AdminUserUpdate, AuditLogQuery, UserIdParams } from './admin.schemas.js';
import type { AdminService } from './admin.service.js';

/**
 * Administration: signed-in admins only. API keys are refused outright (they are read-only credentials a user
 * hands to scripts; an admin's must not read every account), and cookie sessions need the CSRF token.
 */
export function adminRoutes(svc: AdminService, deps: { csrf: Csrf }): Router {
  const r = Router();
  r.use(requireAuth({ apiKeys: false }), requireRole('admin'), deps.csrf.protect);

  const listUsers = validate({ query: AdminUsersQuery });
  r.get('/users', listUsers, async (req, res) => {
    res.json(await svc.listUsers(listUsers.input(req).query));
  });

  const updateUser = validate({ params: UserIdParams, body: AdminUserUpdate });
  r.patch('/users/:id', updateUser, async (req, res) => {
    const { params, body } = updateUser.input(req);
    res.json(await svc.updateUser(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  const auditLog = validate({ query: AuditLogQuery });
  r.get('/audit-log', auditLog, async (req, res) => {
    res.json(await svc.auditLog(auditLog.input(req).query));
  });

  return r;
}
