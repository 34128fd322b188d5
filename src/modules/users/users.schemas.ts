import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';

/** An email as stored: trimmed and lower-cased, so `Ann@X.com ` and `ann@x.com` are one account. */
export const EmailInput = z.string().trim().toLowerCase().pipe(z.email().max(254)).meta({ example: 'ann@example.com' });

export const UserName = z.string().trim().min(1).max(200).meta({ example: 'Ann Lee' });

export const User = z
  .object({
    id: z.uuid(),
    email: z.string().meta({ example: 'ann@example.com' }),
    name: z.string().nullable(),
    role: z.enum(['user', 'admin']),
    status: z.enum(['active', 'suspended']),
    createdAt: z.iso.datetime().meta({ example: '2026-11-25T09:30:00.000Z' }),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  role: 'user' | 'admin';
  status: 'active' | 'suspended';
  createdAt: Date;
}

/** The one public view of an account: never the password hash or any other column. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Only `name` can be changed here: `email`, `role`, `status` or an id in the body is a 422, never applied. */
export const UpdateMeBody = z.strictObject({ name: UserName.nullable() }).meta({ id: 'UpdateMe' });
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;

export function describeUsersApi(registry: OpenAPIRegistry) {
  const tags = ['Users'];
  const security = [{ [SECURITY.bearer]: [] }];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/users/me',
    tags,
    summary: 'The signed-in account (API keys may call it)',
    security,
    responses: { 200: json('The account', User), 401: problem('Not signed in') },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/users/me',
    tags,
    summary: 'Change the display name',
    security,
    request: { body: { content: { 'application/json': { schema: UpdateMeBody } } } },
    responses: {
      200: json('The updated account', User),
      401: problem('Not signed in'),
      403: problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token'),
      422: problem('Invalid or unknown fields'),
    },
  });
}
