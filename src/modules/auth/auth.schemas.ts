import { z } from 'zod';
import { CSRF_TOKEN_LENGTH } from '../../http/csrf.js';
import { Id, Instant, IpAddress, int32, JS_ARRAY_MAX_LENGTH, opaque } from '../../http/field-schemas.js';
import { EmailInput, User, UserName } from '../users/users.schemas.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.service.js';

/** New passwords; the rest of the policy (common list, strength) is checked by the service with its own messages. */
const NewPassword = opaque({ min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH }).meta({
  description: `${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters, not a common password, hard to guess`,
  example: 'purple-Monkey-dishwasher-88',
});
/** A presented password is only bounded; policy applies when one is chosen, not when one is typed. */
export const PresentedPassword = opaque({ min: 1, max: 1024 });

// Strict objects: a `role`, `status` or `id` sent along is a 422, so nothing can be mass-assigned.
export const RegisterBody = z
  .strictObject({ email: EmailInput, password: NewPassword, name: UserName.optional() })
  .meta({ id: 'Register' });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z.strictObject({ email: EmailInput, password: PresentedPassword }).meta({ id: 'Login' });
export type LoginBody = z.infer<typeof LoginBody>;

const RefreshTokenInput = opaque({ min: 1, max: 512 });
/**
 * Mobile clients' bodies. Web clients (`X-Client: web`) send none, their refresh token being in its cookie: the
 * routes take these bodies as optional as a whole, so a body that is sent must carry the token.
 */
export const RefreshBody = z.strictObject({ refreshToken: RefreshTokenInput }).meta({ id: 'Refresh' });
export const LogoutBody = z.strictObject({ refreshToken: RefreshTokenInput }).meta({ id: 'Logout' });

export const PasswordChangeBody = z
  .strictObject({ currentPassword: PresentedPassword, newPassword: NewPassword })
  .meta({ id: 'PasswordChange' });
export type PasswordChangeBody = z.infer<typeof PasswordChangeBody>;

/** A token from an account email: 256 random bits in base64url (43 characters); anything else is refused as is. */
const AccountTokenInput = z
  .string()
  .length(43)
  .regex(/^[A-Za-z0-9_-]+$/)
  .meta({ description: 'The token of the emailed link (43 characters, base64url)' });

export const VerifyEmailBody = z.strictObject({ token: AccountTokenInput }).meta({ id: 'VerifyEmail' });
export type VerifyEmailBody = z.infer<typeof VerifyEmailBody>;

export const PasswordForgotBody = z.strictObject({ email: EmailInput }).meta({ id: 'PasswordForgot' });
export type PasswordForgotBody = z.infer<typeof PasswordForgotBody>;

export const PasswordResetBody = z
  .strictObject({ token: AccountTokenInput, password: NewPassword })
  .meta({ id: 'PasswordReset' });
export type PasswordResetBody = z.infer<typeof PasswordResetBody>;

/**
 * A signed access token. Its claims are two UUIDs, a role, two times and the configured issuer and audience (200
 * characters each at most, escaped as JSON): under 3,500 characters even at the worst, so 4,096 bounds it.
 */
const AccessToken = z.string().max(4096);

/** 32 random bytes in base64url. */
const RefreshToken = z.string().length(43);

/** Access tokens live 15 minutes; the bound is a day, so that a longer lifetime would not break a client. */
const ExpiresIn = int32(1, 86_400).meta({ description: 'Seconds until the access token expires', example: 900 });

const CsrfTokenValue = z.string().max(CSRF_TOKEN_LENGTH);

export const Session = z
  .object({
    user: User,
    accessToken: AccessToken.meta({ description: 'JWT (HS256), sent as `Authorization: Bearer …`' }),
    refreshToken: RefreshToken.meta({ description: 'Opaque; spent by one use of POST /auth/refresh' }),
    tokenType: z.literal('Bearer'),
    expiresIn: ExpiresIn,
  })
  .meta({ id: 'Session' });

export const WebSession = z
  .object({
    user: User,
    expiresIn: ExpiresIn,
    csrfToken: CsrfTokenValue.meta({ description: 'Send as X-CSRF-Token on every state-changing request' }),
  })
  .meta({
    id: 'WebSession',
    description: 'With `X-Client: web`: the tokens are in HttpOnly cookies, never in the body',
  });

/** What signing in, registering and refreshing answer: a `Session`, or a `WebSession` to `X-Client: web`. */
export const SignedIn = z.union([Session, WebSession]);

export const CsrfToken = z.object({ csrfToken: CsrfTokenValue }).meta({ id: 'CsrfToken' });

/** `User-Agent` as a session records it: cut to 500 characters when the request is read. */
const USER_AGENT_MAX_CHARS = 500;

/** The `sessions` section of the GDPR export: every refresh token issued, with its session; never its hash. */
export const SessionsExport = z
  .array(
    z.object({
      id: Id,
      sessionId: Id,
      createdAt: Instant,
      lastUsedAt: Instant.nullable(),
      expiresAt: Instant,
      revokedAt: Instant.nullable(),
      replacedById: Id.nullable(),
      userAgent: z.string().max(USER_AGENT_MAX_CHARS).nullable(),
      ip: IpAddress.nullable(),
    }),
  )
  .max(JS_ARRAY_MAX_LENGTH);

/** The `accountTokens` section of the GDPR export: each emailed token's purpose and times; never its hash. */
export const AccountTokensExport = z
  .array(
    z.object({
      id: Id,
      purpose: z.enum(['password_reset', 'email_verification']),
      createdAt: Instant,
      expiresAt: Instant,
      usedAt: Instant.nullable(),
    }),
  )
  .max(JS_ARRAY_MAX_LENGTH);
