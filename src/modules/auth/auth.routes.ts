import type { Request, Response } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { ForbiddenError, UnauthorizedError, UnprocessableError } from '../../http/errors.js';
import type { RateLimits } from '../../http/rate-limits.js';
import { requestContext } from '../../http/request-context.js';
import {
  ACCESS_COOKIE,
  BASE_COOKIE,
  CSRF_COOKIE,
  REFRESH_COOKIE,
  REFRESH_COOKIE_PATH,
} from '../../http/session-cookies.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  CsrfToken,
  LoginBody,
  LogoutBody,
  PasswordChangeBody,
  PasswordForgotBody,
  PasswordResetBody,
  RefreshBody,
  RegisterBody,
  SignedIn,
  VerifyEmailBody,
} from './auth.schemas.js';
import type { AuthService, IssuedSession } from './auth.service.js';

export interface AuthRoutesDeps {
  csrf: Csrf;
  limits: RateLimits;
  refreshTokenTtlDays: number;
}

const tag = 'Auth';

const SIGNED_IN =
  'A `Session` (the tokens in the body, for `Authorization: Bearer`) without `X-Client: web`; a `WebSession` ' +
  'with it (the tokens set as HttpOnly cookies, the body carrying the `csrfToken` to send as `X-CSRF-Token`)';
/**
 * The refresh cookie (with the session's CSRF token: the browser sends the cookie by itself) or the refresh token in
 * the body, for refresh and sign-out: the handler checks them itself.
 */
const REFRESH_CREDENTIALS = { accepts: [{ name: 'refreshCookie', with: ['csrfToken'] }], anonymous: true } as const;

const REGISTER = operation({
  operationId: 'register',
  tag,
  summary: 'Create an account and sign in',
  headers: ['X-Client'],
  replies: { 201: json(`Account created and signed in. ${SIGNED_IN}`, SignedIn, ['Set-Cookie']) },
  problems: ['email-taken', 'weak-password'],
});
const LOGIN = operation({
  operationId: 'login',
  tag,
  summary: 'Sign in with email and password',
  description:
    'A wrong email and a wrong password get one answer. Repeated failures for an email from one client address ' +
    'lock that address out of it for a while (`login-locked`, whether or not the email has an account); other ' +
    'addresses are not locked.',
  headers: ['X-Client'],
  replies: { 200: json(`Signed in. ${SIGNED_IN}`, SignedIn, ['Set-Cookie']) },
  problems: ['invalid-credentials', 'account-suspended', 'login-locked', 'auth-unavailable'],
});
const REFRESH = operation({
  operationId: 'refreshSession',
  tag,
  summary: 'Trade a refresh token for a new pair; the old one is spent, and replaying it ends the session',
  description:
    'Mobile clients send `{refreshToken}` (required). Web clients (`X-Client: web`) send no body: the refresh ' +
    'cookie is used, with the `X-CSRF-Token` of the session. A web client gets a NEW `csrfToken` (and CSRF cookie): ' +
    'the one it held stops working, and it must send the new one from then on.',
  headers: ['X-Client', 'X-CSRF-Token'],
  replies: { 200: json(`The new pair. ${SIGNED_IN}`, SignedIn, ['Set-Cookie']) },
  problems: ['invalid-refresh-token', 'csrf-token-invalid', 'session-store-unavailable'],
  checks: REFRESH_CREDENTIALS,
});
const LOGOUT = operation({
  operationId: 'logout',
  tag,
  summary: 'End the session of a refresh token (web: of the cookie, and clear the cookies)',
  description:
    'Mobile clients send `{refreshToken}` (required when a body is sent). Web clients send no body: the refresh ' +
    'cookie names the session, with the `X-CSRF-Token` of the session. Neither a body nor the cookie is a 422 ' +
    'naming `body.refreshToken`. A token that names no live session answers 204 too: signing out is idempotent.',
  headers: ['X-Client', 'X-CSRF-Token'],
  replies: { 204: { description: 'Signed out; web cookies cleared', headers: ['Set-Cookie'] } },
  problems: ['csrf-token-invalid', 'session-store-unavailable'],
  checks: REFRESH_CREDENTIALS,
});
const LOGOUT_ALL = operation({
  operationId: 'logoutAll',
  tag,
  summary: 'End every session of the account; their access tokens stop working at once',
  replies: { 204: { description: 'Every session ended; web cookies cleared', headers: ['Set-Cookie'] } },
  problems: ['session-store-unavailable'],
});
const CHANGE_PASSWORD = operation({
  operationId: 'changePassword',
  tag,
  summary: 'Change the password; every other session ends',
  replies: { 204: { description: 'Changed' } },
  problems: ['invalid-current-password', 'weak-password', 'session-store-unavailable'],
});
const FORGOT_PASSWORD = operation({
  operationId: 'forgotPassword',
  tag,
  summary: 'Ask for a password-reset link by email',
  description:
    'Always 202 with no body, in the same time, whether or not the email has an account: the answer tells nothing ' +
    'about which emails are registered. For an active account, an email is sent (by the job worker) with a link ' +
    '`<APP_URL>/reset-password#token=…`, good once, for 1 hour; a later reset retires every earlier link. Limited per ' +
    'client and to 5 requests per email and hour, whoever asks.',
  replies: { 202: { description: 'Accepted: if the email has an account, a link is on its way' } },
});
const RESET_PASSWORD = operation({
  operationId: 'resetPassword',
  tag,
  summary: 'Choose a new password with the token of a reset email',
  description:
    'The token comes from the link of the email (the `token` of its fragment). The new password follows the ' +
    'registration policy; a refused password leaves the token usable. On success the token is spent, every session ' +
    'of the account ends, every API key is revoked, and the owner gets a notice by email. An unknown, used or ' +
    'expired token gets one answer, `invalid-account-token`.',
  replies: { 204: { description: 'Password set; sign in with it' } },
  problems: ['invalid-account-token', 'weak-password', 'session-store-unavailable'],
});
const VERIFY_EMAIL = operation({
  operationId: 'verifyEmail',
  tag,
  summary: "Confirm the account's email address with the token of a verification email",
  description:
    'Registration mails a link `<APP_URL>/verify-email#token=…`, good once, for 24 hours; the web app posts its ' +
    'token here. Until the address is verified the account may not create API keys or start a checkout ' +
    '(`email-unverified`); bank linking will require it too. An unknown, used or expired token gets one answer, ' +
    '`invalid-account-token`. Verifying again with a new token changes nothing.',
  replies: { 204: { description: 'Verified' } },
  problems: ['invalid-account-token'],
});
const RESEND_VERIFICATION = operation({
  operationId: 'resendVerificationEmail',
  tag,
  summary: "Send another verification email to the account's address",
  description:
    '202 whether or not the address is verified already (then nothing is sent). At most 3 an hour per account. ' +
    'Earlier links keep working until they expire.',
  replies: { 202: { description: 'Accepted: a new link is on its way unless the address is verified' } },
  problems: ['jobs-unavailable'],
});
const CSRF = operation({
  operationId: 'getCsrfToken',
  tag,
  summary: 'A CSRF token for the current web session (also set as its cookie)',
  description:
    'The token of the CSRF cookie when it is valid for the session (so other tabs keep theirs), else a new one. ' +
    'A web page reloaded after its access cookie expired, or opened after the browser restarted, calls it with ' +
    'its refresh and CSRF cookies alone, then refreshes with the token it gets.',
  replies: { 200: json('The token to send as X-CSRF-Token', CsrfToken, ['Set-Cookie']) },
  checks: { accepts: [{ name: 'bearer' }, { name: 'cookie' }, { name: 'refreshCookie' }], anonymous: false },
  problems: ['authentication-required', 'invalid-token', 'invalid-refresh-token', 'api-key-not-allowed'],
});

/** `X-Client: web` asks for cookies: the tokens never reach the page's JavaScript. */
const isWeb = (req: Request) => req.get('x-client')?.toLowerCase() === 'web';

const cookieValue = (req: Request, name: string): string | undefined => {
  const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export function authRoutes(svc: AuthService, deps: AuthRoutesDeps): ApiRouter {
  const { csrf, limits } = deps;
  const r = createApiRouter();

  function sendSession(req: Request, res: Response, status: number, session: IssuedSession) {
    if (!isWeb(req)) {
      res.status(status).json({
        user: session.user,
        accessToken: session.accessToken,
        refreshToken: session.refreshToken,
        tokenType: 'Bearer',
        expiresIn: session.expiresIn,
      });
      return;
    }
    res.cookie(ACCESS_COOKIE, session.accessToken, { ...BASE_COOKIE, path: '/', maxAge: session.expiresIn * 1000 });
    res.cookie(REFRESH_COOKIE, session.refreshToken, {
      ...BASE_COOKIE,
      path: REFRESH_COOKIE_PATH,
      maxAge: deps.refreshTokenTtlDays * 86_400_000,
    });
    const csrfToken = csrf.issue(req, res, session.sessionId);
    res.status(status).json({ user: session.user, expiresIn: session.expiresIn, csrfToken });
  }

  function clearCookies(res: Response) {
    res.clearCookie(ACCESS_COOKIE, { ...BASE_COOKIE, path: '/' });
    res.clearCookie(REFRESH_COOKIE, { ...BASE_COOKIE, path: REFRESH_COOKIE_PATH });
    res.clearCookie(CSRF_COOKIE, { ...BASE_COOKIE, path: '/' });
  }

  /**
   * The refresh cookie is a credential the browser sends by itself, so using it is a state change that needs the
   * session's CSRF token, like any cookie-authenticated write. The session is looked up from the token.
   */
  async function assertCsrfForRefreshCookie(req: Request, refreshToken: string) {
    const sessionId = await svc.sessionOfRefreshToken(refreshToken);
    if (!sessionId) throw new UnauthorizedError('invalid-refresh-token', 'The refresh token is invalid; sign in again');
    csrf.assertValid(req, sessionId);
  }

  const register = validate({ body: RegisterBody });
  r.post('/register', REGISTER, ...limits.register, register, async (req, res) => {
    sendSession(req, res, 201, await svc.register(register.input(req).body, requestContext(req)));
  });

  const login = validate({ body: LoginBody });
  r.post('/login', LOGIN, ...limits.login, login, async (req, res) => {
    sendSession(req, res, 200, await svc.login(login.input(req).body, requestContext(req)));
  });

  // The body is optional as a whole (web clients send none); a body that is sent must carry the token.
  const refresh = validate({ body: RefreshBody.optional() });
  r.post('/refresh', REFRESH, ...limits.refresh, refresh, async (req, res) => {
    const web = isWeb(req);
    const token = web ? cookieValue(req, REFRESH_COOKIE) : refresh.input(req).body?.refreshToken;
    if (!token) {
      throw new UnauthorizedError(
        'invalid-refresh-token',
        web ? 'No refresh cookie; sign in again' : 'refreshToken is required',
      );
    }
    if (web) await assertCsrfForRefreshCookie(req, token);
    sendSession(req, res, 200, await svc.refresh(token, requestContext(req)));
  });

  const logout = validate({ body: LogoutBody.optional() });
  r.post('/logout', LOGOUT, logout, async (req, res) => {
    const fromBody = logout.input(req).body?.refreshToken;
    const fromCookie = cookieValue(req, REFRESH_COOKIE);
    const token = fromBody ?? fromCookie;
    if (!token) {
      throw new UnprocessableError('validation-failed', 'The request has invalid fields', [
        { path: 'body.refreshToken', message: 'is required (or the refresh cookie, for web clients)' },
      ]);
    }
    const verified =
      fromBody !== undefined || (await assertCsrfForRefreshCookie(req, token).then(() => true, unlessUnknown));
    await svc.logout(token, requestContext(req));
    // A cookie that names no session skips the CSRF check, so clearing the cookies then needs `X-Client: web`: a
    // custom header no page of another origin can send without a CORS preflight, which it would not get (else a
    // sibling host could plant a junk refresh cookie and sign the user out with a form post).
    if (fromCookie && (verified || isWeb(req))) clearCookies(res);
    res.status(204).end();
  });

  r.post('/logout-all', LOGOUT_ALL, requireAuth({ apiKeys: false }), csrf.protect, async (req, res) => {
    await svc.logoutAll(principalOf(req), requestContext(req));
    clearCookies(res);
    res.status(204).end();
  });

  const password = validate({ body: PasswordChangeBody });
  r.post(
    '/password',
    CHANGE_PASSWORD,
    requireAuth({ apiKeys: false }),
    csrf.protect,
    ...limits.password,
    password,
    async (req, res) => {
      await svc.changePassword(principalOf(req), password.input(req).body, requestContext(req));
      res.status(204).end();
    },
  );

  const forgot = validate({ body: PasswordForgotBody });
  r.post('/password/forgot', FORGOT_PASSWORD, ...limits.passwordForgot, forgot, async (req, res) => {
    await svc.forgotPassword(forgot.input(req).body, requestContext(req));
    res.status(202).end();
  });

  const reset = validate({ body: PasswordResetBody });
  r.post('/password/reset', RESET_PASSWORD, ...limits.passwordReset, reset, async (req, res) => {
    await svc.resetPassword(reset.input(req).body, requestContext(req));
    res.status(204).end();
  });

  const verify = validate({ body: VerifyEmailBody });
  r.post('/email/verify', VERIFY_EMAIL, ...limits.passwordReset, verify, async (req, res) => {
    await svc.verifyEmail(verify.input(req).body, requestContext(req));
    res.status(204).end();
  });

  r.post(
    '/email/verify/resend',
    RESEND_VERIFICATION,
    requireAuth({ apiKeys: false }),
    csrf.protect,
    ...limits.verifyResend,
    async (req, res) => {
      await svc.resendVerification(principalOf(req));
      res.status(202).end();
    },
  );

  // A session, or the refresh cookie with the CSRF cookie of its session: the page's token lives in its memory, so
  // a reload after the access cookie expired, or a browser restart, would otherwise leave a refresh cookie that
  // refresh cannot use. Only this site's pages can read the answer (CORS); the cookies never go cross-site.
  r.get('/csrf', CSRF, async (req, res) => {
    const principal = req.auth;
    if (principal?.kind === 'api-key') {
      throw new ForbiddenError('api-key-not-allowed', 'API keys cannot be used on this route');
    }
    if (principal) return void res.json({ csrfToken: csrf.current(req, res, principal.sessionId) });
    const refreshToken = cookieValue(req, REFRESH_COOKIE);
    if (refreshToken) {
      const sessionId = await svc.resumableSession(refreshToken);
      const csrfToken = sessionId ? csrf.resume(req, res, sessionId) : undefined;
      if (!csrfToken)
        throw new UnauthorizedError('invalid-refresh-token', 'This session cannot be resumed; sign in again');
      return void res.json({ csrfToken });
    }
    res.setHeader('WWW-Authenticate', req.authRejected ? 'Bearer error="invalid_token"' : 'Bearer');
    throw req.authRejected
      ? new UnauthorizedError('invalid-token', 'The access token is invalid, expired or revoked')
      : new UnauthorizedError('authentication-required', 'Sign in first');
  });

  return r;
}

/** Signing out with a cookie that names no session is already done: answer 204, not 401 (false: not verified). */
function unlessUnknown(err: unknown): false {
  if (!(err instanceof UnauthorizedError)) throw err;
  return false;
}
