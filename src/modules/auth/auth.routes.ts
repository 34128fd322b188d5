import { type Request, type Response, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { UnauthorizedError, UnprocessableError } from '../../http/errors.js';
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
import { LoginBody, LogoutBody, PasswordChangeBody, RefreshBody, RegisterBody } from './auth.schemas.js';
import type { AuthService, IssuedSession } from './auth.service.js';

export interface AuthRoutesDeps {
  csrf: Csrf;
  limits: RateLimits;
  refreshTokenTtlDays: number;
}

/** `X-Client: web` asks for cookies: the tokens never reach the page's JavaScript. */
const isWeb = (req: Request) => req.get('x-client')?.toLowerCase() === 'web';

const cookieValue = (req: Request, name: string): string | undefined => {
  const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export function authRoutes(svc: AuthService, deps: AuthRoutesDeps): Router {
  const { csrf, limits } = deps;
  const r = Router();

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
  r.post('/register', ...limits.register, register, async (req, res) => {
    sendSession(req, res, 201, await svc.register(register.input(req).body, requestContext(req)));
  });

  const login = validate({ body: LoginBody });
  r.post('/login', ...limits.login, login, async (req, res) => {
    sendSession(req, res, 200, await svc.login(login.input(req).body, requestContext(req)));
  });

  const refresh = validate({ body: RefreshBody });
  r.post('/refresh', ...limits.refresh, refresh, async (req, res) => {
    const web = isWeb(req);
    const token = web ? cookieValue(req, REFRESH_COOKIE) : refresh.input(req).body.refreshToken;
    if (!token) {
      throw new UnauthorizedError(
        'invalid-refresh-token',
        web ? 'No refresh cookie; sign in again' : 'refreshToken is required',
      );
    }
    if (web) await assertCsrfForRefreshCookie(req, token);
    sendSession(req, res, 200, await svc.refresh(token, requestContext(req)));
  });

  const logout = validate({ body: LogoutBody });
  r.post('/logout', logout, async (req, res) => {
    const fromBody = logout.input(req).body.refreshToken;
    const fromCookie = cookieValue(req, REFRESH_COOKIE);
    const token = fromBody ?? fromCookie;
    if (!token) {
      throw new UnprocessableError('validation-failed', 'The request has invalid fields', [
        { path: 'body.refreshToken', message: 'is required (or the refresh cookie, for web clients)' },
      ]);
    }
    if (!fromBody) await assertCsrfForRefreshCookie(req, token).catch(rethrowUnlessUnknown);
    await svc.logout(token, requestContext(req));
    if (fromCookie) clearCookies(res);
    res.status(204).end();
  });

  r.post('/logout-all', requireAuth({ apiKeys: false }), csrf.protect, async (req, res) => {
    await svc.logoutAll(principalOf(req), requestContext(req));
    clearCookies(res);
    res.status(204).end();
  });

  const password = validate({ body: PasswordChangeBody });
  r.post('/password', requireAuth({ apiKeys: false }), csrf.protect, ...limits.password, password, async (req, res) => {
    await svc.changePassword(principalOf(req), password.input(req).body, requestContext(req));
    res.status(204).end();
  });

  r.get('/csrf', requireAuth({ apiKeys: false }), (req, res) => {
    const principal = principalOf(req);
    // requireAuth({ apiKeys: false }) leaves only sessions.
    const sessionId = principal.kind === 'session' ? principal.sessionId : '';
    res.json({ csrfToken: csrf.issue(req, res, sessionId) });
  });

  return r;
}

/** Signing out with a cookie that names no session is already done: answer 204, not 401. */
function rethrowUnlessUnknown(err: unknown): void {
  if (!(err instanceof UnauthorizedError)) throw err;
}
