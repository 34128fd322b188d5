import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Principal, SessionClaim } from '../../http/authenticate.js';
import { ForbiddenError, UnauthorizedError, UnprocessableError } from '../../http/errors.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db, Queryable } from '../../platform/db-handle.js';
import type { EmailHash } from '../../platform/email-hash.js';
import type { Logger } from '../../platform/logger.js';
import type { PasswordHasher } from '../../platform/password-hash.js';
import type { ApiKeyRevocation } from '../api-keys/api-keys.port.js';
import type { AuditLog } from '../audit/audit.port.js';
import { toUser, type User, type UserRow } from '../users/users.schemas.js';
import type { AccessTokens } from './access-tokens.js';
import { hashAccountToken } from './account-tokens.js';
import {
  consumeAccountToken,
  isEmailVerified,
  markEmailVerified,
  peekAccountToken,
  retireAccountTokens,
} from './account-tokens.repo.js';
import type { AccountMailQueue } from './auth.jobs.js';
import {
  findCredentialsByEmail,
  findCredentialsById,
  findRefreshToken,
  insertRefreshToken,
  insertUser,
  isSessionLive,
  markSpent,
  revokeFamily,
  revokeUserSessions,
  sessionOfRefreshToken,
  updatePasswordHash,
} from './auth.repo.js';
import type {
  LoginBody,
  PasswordChangeBody,
  PasswordForgotBody,
  PasswordResetBody,
  RegisterBody,
  VerifyEmailBody,
} from './auth.schemas.js';
import type { LoginLockout } from './login-lockout.js';
import { passwordProblems } from './password-policy.service.js';
import type { SessionState } from './session-state.service.js';

export interface AuthServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  sessions: SessionState;
  lockout: LoginLockout;
  /** Revokes every API key of an account, in the caller's transaction (the API keys module's port). */
  apiKeys: ApiKeyRevocation;
  /** What stands for an email that has no account in the audit log. */
  emailHash: EmailHash;
  /** Enqueues account mail (reset links, security notices); the worker sends it. */
  mail: AccountMailQueue;
  logger: Logger;
  refreshTokenTtlDays: number;
  /** The absolute lifetime of a session, from its sign-in, whatever its refreshes. */
  sessionMaxDays: number;
  now: () => Date;
}

/** What a sign-in produces; the routes decide whether tokens go in the body or in cookies. */
export interface IssuedSession {
  user: User;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  /** The stored row of `refreshToken`, for rotation to link the spent token to it. */
  refreshTokenId: string;
  expiresIn: number;
}

/** The audit target type of an email without an account: its HMAC (platform/email-hash.ts). */
export const EMAIL_AUDIT_TARGET = 'email-hmac';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The least time `forgotPassword` takes, whether or not the email has an account. Its work (a lookup, an audit
 * insert, for an account an enqueue) takes a few milliseconds and differs between the two cases; answering no sooner
 * than this floor makes the time the same. Far above the work, so a loaded server still stays under it.
 */
export const FORGOT_PASSWORD_FLOOR_MS = 250;

/** One answer for every token that cannot be used: unknown, of another purpose, already used or expired. */
const invalidAccountToken = () =>
  new UnprocessableError('invalid-account-token', 'This link is invalid, already used or expired; ask for a new one', [
    { path: 'body.token', message: 'is invalid, used or expired' },
  ]);

const invalidCredentials = () => new UnauthorizedError('invalid-credentials', 'Email or password is incorrect');
const invalidRefreshToken = () =>
  new UnauthorizedError('invalid-refresh-token', 'The refresh token is invalid, expired or revoked; sign in again');

/** Thrown inside a rotation transaction to roll it back when another request spent the token first. */
class RefreshTokenReplayed extends Error {}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthServiceDeps) {
  const { db, auditLog, hasher, tokens, sessions, lockout, apiKeys, emailHash, mail, logger, now } = deps;
  const refreshTtlMs = deps.refreshTokenTtlDays * 86_400_000;
  const sessionMaxMs = deps.sessionMaxDays * 86_400_000;
  const sessionEnd = (startedAt: Date) => new Date(startedAt.getTime() + sessionMaxMs);

  /**
   * A new refresh token (256 random bits; only its SHA-256 is stored) in `familyId`, and its access token. The token
   * expires REFRESH_TOKEN_TTL_DAYS from now, but never after its session's absolute end.
   */
  async function issue(
    tx: Queryable,
    user: UserRow,
    session: { familyId: string; startedAt: Date },
    ctx: RequestContext,
  ): Promise<IssuedSession> {
    const { familyId } = session;
    const refreshToken = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(now().getTime() + refreshTtlMs, sessionEnd(session.startedAt).getTime());
    const stored = await insertRefreshToken(tx, {
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      sessionStartedAt: session.startedAt,
      expiresAt: new Date(expiresAt),
      userAgent: ctx.userAgent,
      ip: ctx.ip,
    });
    return {
      user: toUser(user),
      sessionId: familyId,
      accessToken: tokens.sign({ sub: user.id, role: user.role, sid: familyId }),
      refreshToken,
      refreshTokenId: stored.id,
      expiresIn: tokens.ttlSeconds,
    };
  }

  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId });
  const newSession = () => ({ familyId: randomUUID(), startedAt: now() });

  /**
   * Ends every way into the account — every session but `keep`, every API key — in `tx`, for the events after which
   * whoever else held access must lose it: signing out everywhere, a password change, a password reset. Answers the
   * sessions ended, to pass to `sessions.markEnded` once `tx` committed (so their access tokens stop at once).
   */
  async function revokeAllAccess(tx: Queryable, userId: string, ctx: RequestContext, keep?: string) {
    const ended = await revokeUserSessions(tx, userId, now(), keep);
    await apiKeys.revokeAllOf(tx, userId, ctx);
    return ended;
  }

  /** Revokes one session (a refresh-token family) and audits why, then ends its access tokens at once. */
  async function endFamily(
    token: { userId: string; familyId: string },
    action: 'auth.logout' | 'auth.refresh_reuse' | 'auth.session_expired',
    ctx: RequestContext,
  ) {
    await db.transaction(async (tx) => {
      await revokeFamily(tx, token.familyId, now());
      await auditLog.record(tx, {
        action,
        userId: token.userId,
        targetType: 'session',
        targetId: token.familyId,
        ...audit(ctx),
      });
    });
    await sessions.markEnded([token.familyId]);
  }

  return {
    async register(input: RegisterBody, ctx: RequestContext): Promise<IssuedSession> {
      const problems = passwordProblems(input.password, [input.email, input.name], 'body.password');
      if (problems.length > 0) throw new UnprocessableError('weak-password', 'Choose a stronger password', problems);
      const passwordHash = await hasher.hash(input.password);
      const session = await db.transaction(async (tx) => {
        const user = await insertUser(tx, { email: input.email, passwordHash, name: input.name ?? null });
        await auditLog.record(tx, { action: 'auth.register', userId: user.id, ...audit(ctx) });
        return issue(tx, user, newSession(), ctx);
      });
      // The account exists either way: a verification mail that cannot be enqueued is logged, and the owner asks
      // for another (POST /auth/email/verify/resend).
      await mail.verification(session.user.id).catch((err: unknown) => {
        logger.error(
          { err: { message: (err as Error)?.message }, reqId: ctx.requestId },
          'verification email not enqueued',
        );
      });
      return session;
    },

    async login(input: LoginBody, ctx: RequestContext): Promise<IssuedSession> {
      await lockout.assertNotLocked(input.email, ctx.ip);
      const user = await findCredentialsByEmail(db, input.email);
      // An unknown email costs one bcrypt comparison too, so timing does not tell which emails have accounts.
      const valid = user
        ? await hasher.verify(input.password, user.passwordHash)
        : await hasher.verifyNothing(input.password);
      if (!user || !valid) {
        const locked = await lockout.recordFailure(input.email, ctx.ip);
        const subject = user
          ? { userId: user.id }
          : { targetType: EMAIL_AUDIT_TARGET, targetId: emailHash(input.email) };
        await auditLog.record(db, { action: 'auth.login_failed', ...subject, ...audit(ctx) });
        if (locked) await auditLog.record(db, { action: 'auth.login_locked', ...subject, ...audit(ctx) });
        throw invalidCredentials();
      }
      // Only someone holding the right password learns that the account is suspended.
      if (user.status !== 'active') throw new ForbiddenError('account-suspended', 'This account is suspended');
      await lockout.clear(input.email, ctx.ip);
      return db.transaction(async (tx) => {
        const session = await issue(tx, user, newSession(), ctx);
        await auditLog.record(tx, {
          action: 'auth.login',
          userId: user.id,
          targetType: 'session',
          targetId: session.sessionId,
          ...audit(ctx),
        });
        return session;
      });
    },

    /** Rotation: the presented token is spent and a new one of the same family issued, in one transaction. */
    async refresh(refreshToken: string, ctx: RequestContext): Promise<IssuedSession> {
      const token = await findRefreshToken(db, sha256(refreshToken));
      if (!token || token.revokedAt) throw invalidRefreshToken();
      if (token.replacedById) {
        // A spent token presented again was stolen: the thief and the victim must both sign in again.
        await endFamily(token, 'auth.refresh_reuse', ctx);
        throw invalidRefreshToken();
      }
      // Past its absolute lifetime, the session ends however recently it was refreshed: sign in again.
      if (sessionEnd(token.sessionStartedAt) <= now()) {
        await endFamily(token, 'auth.session_expired', ctx);
        throw invalidRefreshToken();
      }
      if (token.expiresAt <= now() || token.user.status !== 'active') throw invalidRefreshToken();
      // A token of this family revoked earlier (a revocation that raced a refresh) ends the whole session.
      if (!(await isSessionLive(db, token.familyId, now()))) throw invalidRefreshToken();
      try {
        return await db.transaction(async (tx) => {
          const user = await findCredentialsById(tx, token.userId);
          if (!user) throw invalidRefreshToken();
          const session = await issue(tx, user, { familyId: token.familyId, startedAt: token.sessionStartedAt }, ctx);
          if (!(await markSpent(tx, token.id, session.refreshTokenId, now()))) throw new RefreshTokenReplayed();
          return session;
        });
      } catch (err) {
        if (!(err instanceof RefreshTokenReplayed)) throw err;
        await endFamily(token, 'auth.refresh_reuse', ctx);
        throw invalidRefreshToken();
      }
    },

    /** Ends the session a refresh token belongs to; an unknown token is not an error (signing out is idempotent). */
    async logout(refreshToken: string, ctx: RequestContext): Promise<void> {
      const token = await findRefreshToken(db, sha256(refreshToken));
      if (!token || token.revokedAt) return;
      await endFamily(token, 'auth.logout', ctx);
    },

    async logoutAll(principal: Principal, ctx: RequestContext): Promise<void> {
      const ended = await db.transaction(async (tx) => {
        const sids = await revokeAllAccess(tx, principal.userId, ctx);
        await auditLog.record(tx, { action: 'auth.logout_all', userId: principal.userId, ...audit(ctx) });
        return sids;
      });
      await sessions.markEnded(ended);
    },

    async changePassword(principal: Principal, input: PasswordChangeBody, ctx: RequestContext): Promise<void> {
      const user = await findCredentialsById(db, principal.userId);
      if (!user) throw new UnauthorizedError('invalid-token', 'The account no longer exists');
      if (!(await hasher.verify(input.currentPassword, user.passwordHash))) {
        throw new UnprocessableError('invalid-current-password', 'The current password is incorrect', [
          { path: 'body.currentPassword', message: 'is incorrect' },
        ]);
      }
      const problems = passwordProblems(input.newPassword, [user.email, user.name], 'body.newPassword');
      if (input.newPassword === input.currentPassword) {
        problems.push({ path: 'body.newPassword', message: 'must differ from the current password' });
      }
      if (problems.length > 0) throw new UnprocessableError('weak-password', 'Choose a stronger password', problems);
      const passwordHash = await hasher.hash(input.newPassword);
      const keep = principal.kind === 'session' ? principal.sessionId : undefined;
      const ended = await db.transaction(async (tx) => {
        await updatePasswordHash(tx, user.id, passwordHash, now());
        const sids = await revokeAllAccess(tx, user.id, ctx, keep);
        await auditLog.record(tx, {
          action: 'auth.password_change',
          userId: user.id,
          fields: ['password'],
          ...audit(ctx),
        });
        return sids;
      });
      await sessions.markEnded(ended);
    },

    /**
     * Mails a reset link to the account of `email`, if there is one: the answer is the same either way, and takes the
     * same time (FORGOT_PASSWORD_FLOOR_MS). Audited both ways (an unknown email by its HMAC). A failure to enqueue is
     * logged, not answered: an error only accounts can cause would tell which emails have one.
     */
    async forgotPassword(input: PasswordForgotBody, ctx: RequestContext): Promise<void> {
      const floor = new Promise((resolve) => setTimeout(resolve, FORGOT_PASSWORD_FLOOR_MS));
      const work = async () => {
        const user = await findCredentialsByEmail(db, input.email);
        const subject =
          user?.status === 'active'
            ? { userId: user.id }
            : { targetType: EMAIL_AUDIT_TARGET, targetId: emailHash(input.email) };
        await auditLog.record(db, { action: 'auth.password_reset_requested', ...subject, ...audit(ctx) });
        if (user?.status !== 'active') return;
        try {
          await mail.passwordReset(user.id);
        } catch (err) {
          logger.error(
            { err: { message: (err as Error)?.message }, reqId: ctx.requestId },
            'password-reset email not enqueued',
          );
        }
      };
      await Promise.all([work(), floor]);
    },

    /**
     * Sets a new password with a reset token: the policy first (a refused password leaves the link usable), then, in
     * one transaction, the token spent (exactly one of two concurrent uses wins), the other reset links retired,
     * the password changed, every session ended and every API key revoked, and an audit entry; then the owner is
     * told by email.
     */
    async resetPassword(input: PasswordResetBody, ctx: RequestContext): Promise<void> {
      const tokenHash = hashAccountToken(input.token);
      const user = await peekAccountToken(db, tokenHash, 'password_reset', now());
      if (user?.status !== 'active') throw invalidAccountToken();
      const problems = passwordProblems(input.password, [user.email, user.name], 'body.password');
      if (problems.length > 0) throw new UnprocessableError('weak-password', 'Choose a stronger password', problems);
      const passwordHash = await hasher.hash(input.password);
      const at = now();
      const ended = await db.transaction(async (tx) => {
        const userId = await consumeAccountToken(tx, tokenHash, 'password_reset', at);
        if (userId !== user.id) throw invalidAccountToken();
        await retireAccountTokens(tx, userId, 'password_reset', at);
        await updatePasswordHash(tx, userId, passwordHash, at);
        const sids = await revokeAllAccess(tx, userId, ctx);
        await auditLog.record(tx, { action: 'auth.password_reset', userId, fields: ['password'], ...audit(ctx) });
        return sids;
      });
      await sessions.markEnded(ended);
      // The reset is done: a notice that cannot be enqueued is logged rather than turning a success into an error.
      await mail.notice(user.id, 'password-reset', at).catch((err: unknown) => {
        logger.error(
          { err: { message: (err as Error)?.message }, reqId: ctx.requestId },
          'security notice not enqueued',
        );
      });
    },

    /**
     * Proves the account's address with the token of a verification email: spent in one statement (exactly one of
     * two concurrent uses wins), the address marked verified, audited. Unknown, used, expired or other-purpose
     * tokens get one answer.
     */
    async verifyEmail(input: VerifyEmailBody, ctx: RequestContext): Promise<void> {
      const at = now();
      await db.transaction(async (tx) => {
        const userId = await consumeAccountToken(tx, hashAccountToken(input.token), 'email_verification', at);
        if (!userId) throw invalidAccountToken();
        await markEmailVerified(tx, userId, at);
        await auditLog.record(tx, { action: 'auth.email_verify', userId, ...audit(ctx) });
      });
    },

    /** Mails a new verification link; nothing when the address is verified already (the answer is the same). */
    async resendVerification(principal: Principal): Promise<void> {
      if (await isEmailVerified(db, principal.userId)) return;
      await mail.verification(principal.userId);
    },

    /**
     * Refuses (403 `email-unverified`) what an account may do only once its address is proven: create an API key,
     * start a checkout (and, when it exists, link a bank).
     */
    async assertEmailVerified(userId: string): Promise<void> {
      if (!(await isEmailVerified(db, userId)))
        throw new ForbiddenError('email-unverified', 'Confirm your email address first (see the email we sent)');
    },

    /** Whether the account's address is verified (for `/users/me`). */
    isEmailVerified(userId: string): Promise<boolean> {
      return isEmailVerified(db, userId);
    },

    /** Whether `password` is the account's current password; an unknown account costs a comparison too. */
    async confirmPassword(userId: string, password: string): Promise<boolean> {
      const user = await findCredentialsById(db, userId);
      if (!user) return hasher.verifyNothing(password);
      return hasher.verify(password, user.passwordHash);
    },

    /** The session a refresh token belongs to (to check a web client's CSRF token before using the cookie). */
    sessionOfRefreshToken(refreshToken: string): Promise<string | undefined> {
      return sessionOfRefreshToken(db, sha256(refreshToken));
    },

    /**
     * The session a web page may resume with its refresh cookie: one that `refresh` would renew (the token unspent,
     * unrevoked and unexpired, the account active, the session not ended). Reads only: a spent token is not treated
     * as theft here, `refresh` does that when it is presented there.
     */
    async resumableSession(refreshToken: string): Promise<string | undefined> {
      const token = await findRefreshToken(db, sha256(refreshToken));
      if (!token || token.revokedAt || token.replacedById) return undefined;
      if (token.expiresAt <= now() || sessionEnd(token.sessionStartedAt) <= now()) return undefined;
      if (token.user.status !== 'active') return undefined;
      return (await isSessionLive(db, token.familyId, now())) ? token.familyId : undefined;
    },

    /** The principal of a valid access token, with the check that its session has not ended (started now). */
    sessionClaim(token: string, via: 'header' | 'cookie'): SessionClaim | undefined {
      const claims = tokens.verify(token);
      if (!claims) return undefined;
      return {
        principal: { kind: 'session', userId: claims.sub, role: claims.role, sessionId: claims.sid, via },
        // The session must be live AND the user's own: a token joining one user's id to another's session is refused.
        live: sessions.isLive(claims.sid, claims.sub),
      };
    },
  };
}
