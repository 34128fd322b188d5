import { z } from 'zod';
import { EMAIL_MAX_CHARS, Email, Id, Instant, text } from '../../http/field-schemas.js';

/**
 * An email as stored: trimmed and lower-cased, so `Ann@X.com ` and `ann@x.com` are one account. The format is
 * checked after trimming; the document states it, since it shows only the first stage of the pipe.
 */
export const EmailInput = z
  .string()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX_CHARS)
  .pipe(z.email())
  .meta({ format: 'email', example: 'ann@example.com' });

/** `users.name` is varchar(200). */
export const UserName = text({ trim: true, min: 1, max: 200 }).meta({ example: 'Ann Lee' });

export const UserRole = z.enum(['user', 'admin']);
export const UserStatus = z.enum(['active', 'suspended']);

export const User = z
  .object({
    id: Id,
    email: Email,
    name: UserName.nullable(),
    role: UserRole,
    status: UserStatus,
    createdAt: Instant,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

/** The signed-in account as `/users/me` shows it to its owner. */
export const Me = User.extend({
  emailVerified: z.boolean().meta({
    description:
      'Whether the owner confirmed the address with the emailed link. Until then the account may not create API ' +
      'keys or start a checkout (`email-unverified`); bank linking will require it too.',
  }),
}).meta({ id: 'Me' });
export type Me = z.infer<typeof Me>;

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
