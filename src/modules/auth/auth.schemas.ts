import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';
import { EmailInput, User, UserName } from '../users/users.schemas.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.service.js';

/** New passwords; the rest of the policy (common list, strength) is checked by the service with its own messages. */
const NewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH)
  .max(PASSWORD_MAX_LENGTH)
  .meta({
    description: `${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters, not a common password, hard to guess`,
    example: 'purple-Monkey-dishwasher-88',
  });
/** A presented password is only bounded; policy applies when one is chosen, not when one is typed. */
const PresentedPassword = z.string().min(1).max(1024);

// Strict objects: a `role`, `status` or `id` sent along is a 422, so nothing can be mass-assigned.
export const RegisterBody = z
  .strictObject({ email: EmailInput, password: NewPassword, name: UserName.optional() })
  .meta({ id: 'Register' });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z.strictObject({ email: EmailInput, password: PresentedPassword }).meta({ id: 'Login' });
export type LoginBody = z.infer<typeof LoginBody>;

const RefreshTokenInput = z.string().min(1).max(512);
/** Web clients (`X-Client: web`) send no body: their refresh token is in its cookie. */
export const RefreshBody = z.strictObject({ refreshToken: RefreshTokenInput.optional() }).meta({ id: 'Refresh' });
export const LogoutBody = z.strictObject({ refreshToken: RefreshTokenInput.optional() }).meta({ id: 'Logout' });

export const PasswordChangeBody = z
  .strictObject({ currentPassword: PresentedPassword, newPassword: NewPassword })
  .meta({ id: 'PasswordChange' });
export type PasswordChangeBody = z.infer<typeof PasswordChangeBody>;

export const Session = z
  .object({
    user: User,
    accessToken: z.string().meta({ description: 'JWT (HS256), sent as `Authorization: Bearer …`' }),
    refreshToken: z.string().meta({ description: 'Opaque; spent by one use of POST /auth/refresh' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires', example: 900 }),
  })
  .meta({ id: 'Session' });

export const WebSession = z
  .object({
    user: User,
    expiresIn: z.number().int().meta({ example: 900 }),
    csrfToken: z.string().meta({ description: 'Send as X-CSRF-Token on every state-changing request' }),
  })
  .meta({
    id: 'WebSession',
    description: 'With `X-Client: web`: the tokens are in HttpOnly cookies, never in the body',
  });

export const CsrfToken = z.object({ csrfToken: z.string() }).meta({ id: 'CsrfToken' });

const webHeader = z.object({
  'x-client': z.enum(['web']).optional().meta({ description: '`web`: tokens in cookies instead of the body' }),
});

export function describeAuthApi(registry: OpenAPIRegistry) {
  const tags = ['Auth'];
  const bearer = [{ [SECURITY.bearer]: [] }];
  const session = {
    200: json('Signed in (mobile: tokens in the body)', Session),
  };
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } }, headers: webHeader });
  const limited = { 429: problem('Too many attempts (Retry-After says when to retry)') };
  const unavailable = { 503: problem('The rate-limit store is unavailable: credential routes fail closed') };

  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/register',
    tags,
    summary: 'Create an account and sign in',
    request: body(RegisterBody),
    responses: {
      201: { ...json('Account created and signed in', Session), description: 'Created; `WebSession` for web' },
      409: problem('An account with this email exists'),
      422: problem('Invalid fields, or a password that is common or too easy to guess'),
      ...limited,
      ...unavailable,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/login',
    tags,
    summary: 'Sign in with email and password',
    request: body(LoginBody),
    responses: {
      ...session,
      401: problem('Wrong email or password (one answer for both)'),
      403: problem('The account is suspended'),
      422: problem('Invalid fields'),
      429: problem('Too many attempts, or too many failures for this email (locked; Retry-After)'),
      ...unavailable,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/refresh',
    tags,
    summary: 'Trade a refresh token for a new pair; the old one is spent, and replaying it ends the session',
    request: body(RefreshBody),
    responses: {
      ...session,
      401: problem('Unknown, expired, revoked or already spent refresh token'),
      403: problem('Web: missing or invalid X-CSRF-Token'),
      ...limited,
      ...unavailable,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/logout',
    tags,
    summary: 'End the session of a refresh token (web: of the cookie, and clear the cookies)',
    request: body(LogoutBody),
    responses: { 204: { description: 'Signed out' }, 403: problem('Web: missing or invalid X-CSRF-Token') },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/logout-all',
    tags,
    summary: 'End every session of the account; their access tokens stop working at once',
    security: bearer,
    responses: { 204: { description: 'Every session ended' }, 401: problem('Not signed in') },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/auth/password',
    tags,
    summary: 'Change the password; every other session ends',
    security: bearer,
    request: body(PasswordChangeBody),
    responses: {
      204: { description: 'Changed' },
      401: problem('Not signed in'),
      403: problem('API key, or cookie session without a valid X-CSRF-Token'),
      422: problem('Wrong current password, or a weak new one'),
      ...limited,
      ...unavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/auth/csrf',
    tags,
    summary: 'A CSRF token for the current cookie session (also set as its cookie)',
    security: bearer,
    responses: { 200: json('The token to send as X-CSRF-Token', CsrfToken), 401: problem('Not signed in') },
  });
}
