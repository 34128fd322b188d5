import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { json, problem, SECURITY } from '../../openapi/components.js';
import { AUDIT_ACTIONS } from '../audit/audit.schemas.js';
import { User } from '../users/users.schemas.js';

export const UserIdParams = z.object({ id: z.uuid().meta({ description: 'The account id' }) });

export const AdminUsersQuery = PageQuery.extend({
  email: z
    .string()
    .trim()
    .min(1)
    .max(254)
    .optional()
    .meta({ description: 'Only accounts whose email contains this text (case-insensitive)', example: 'example.com' }),
});
export type AdminUsersQuery = z.infer<typeof AdminUsersQuery>;

/** Only `status` and `role`: anything else (an email, a password hash, an id) is a 422, never applied. */
export const AdminUserUpdate = z
  .strictObject({
    status: z.enum(['active', 'suspended']).optional(),
    role: z.enum(['user', 'admin']).optional(),
  })
  .refine((body) => body.status !== undefined || body.role !== undefined, {
    message: 'name at least one of status, role',
  })
  .meta({ id: 'AdminUserUpdate' });
export type AdminUserUpdate = z.infer<typeof AdminUserUpdate>;

export const AuditLogQuery = PageQuery.extend({
  userId: z.uuid().optional().meta({ description: 'Only entries about this account' }),
  action: z.enum(AUDIT_ACTIONS).optional().meta({ description: 'Only entries of this action' }),
});
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;

/** One audit row as admins read it: which fields changed, never their values. */
export const AuditEntry = z
  .object({
    id: z.uuid(),
    action: z.string().meta({ example: 'admin.user_update' }),
    userId: z.uuid().nullable().meta({ description: 'The account the entry is about' }),
    actorId: z
      .uuid()
      .nullable()
      .meta({ description: 'Who did it when not the account itself (an admin); null for the operator CLI' }),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    fields: z.array(z.string()).meta({ example: ['status'] }),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export function describeAdminApi(registry: OpenAPIRegistry) {
  const tags = ['Admin'];
  const security = [{ [SECURITY.bearer]: [] }];
  const denied = {
    401: problem('Not signed in'),
    403: problem('Not an admin, an API key (never accepted here), or a cookie session without X-CSRF-Token'),
  };
  registry.registerPath({
    method: 'get',
    path: '/api/v1/admin/users',
    tags,
    summary: 'Accounts, newest first',
    security,
    request: { query: AdminUsersQuery },
    responses: {
      200: json('A page of accounts', pageOf(User)),
      400: problem('A cursor this API did not issue'),
      ...denied,
      422: problem('Invalid query (limit over 100, say)'),
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/admin/users/{id}',
    tags,
    summary: "Suspend or reactivate an account, or change its role; ends the account's sessions when it matters",
    security,
    request: { params: UserIdParams, body: { content: { 'application/json': { schema: AdminUserUpdate } } } },
    responses: {
      200: json('The updated account', User),
      400: problem('The id is not a UUID'),
      ...denied,
      404: problem('No such account'),
      409: problem('Admins cannot change their own role or status'),
      422: problem('No field, or unknown or invalid fields'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/admin/audit-log',
    tags,
    summary: 'Audit entries, newest first',
    security,
    request: { query: AuditLogQuery },
    responses: {
      200: json('A page of audit entries', pageOf(AuditEntry)),
      400: problem('A cursor this API did not issue'),
      ...denied,
      422: problem('Invalid query (an unknown action, say)'),
    },
  });
}
