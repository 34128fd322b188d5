import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler, Response } from 'express';
import { withContract } from './contract.js';
import { ForbiddenError } from './errors.js';
import { BASE_COOKIE, CSRF_COOKIE } from './session-cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type Csrf = ReturnType<typeof createCsrf>;

/**
 * CSRF protection for cookie sessions: csrf-csrf's signed double submit (docs/adr/0008). The token is an HMAC over
 * the session id and a random value, set in an HttpOnly cookie and handed to the web app in the body; a
 * state-changing request authenticated by cookie must echo it in `X-CSRF-Token`. Binding it to the session means a
 * token obtained in one session (an attacker's own) is worthless in another. Bearer requests need none: a browser
 * never adds an Authorization header on its own.
 */
export function createCsrf(secret: string) {
  // The session a token is issued or checked for, when it is not the request's principal (login, refresh).
  const sessionFor = new WeakMap<Request, string>();
  const csrf = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => sessionFor.get(req) ?? (req.auth?.kind === 'session' ? req.auth.sessionId : ''),
    cookieName: CSRF_COOKIE,
    cookieOptions: { ...BASE_COOKIE, path: '/' },
    getCsrfTokenFromRequest: (req) => req.get('x-csrf-token'),
  });

  function assertValid(req: Request, sessionId?: string): void {
    if (sessionId !== undefined) sessionFor.set(req, sessionId);
    const session = sessionFor.get(req) ?? (req.auth?.kind === 'session' ? req.auth.sessionId : '');
    if (session === '' || !csrf.validateRequest(req)) {
      throw new ForbiddenError('csrf-token-invalid', 'A valid X-CSRF-Token header is required for this request');
    }
  }

  return {
    /** A fresh token for `sessionId`, also set as the CSRF cookie. */
    issue(req: Request, res: Response, sessionId: string): string {
      sessionFor.set(req, sessionId);
      return csrf.generateCsrfToken(req, res, { overwrite: true });
    },
    assertValid,
    /** Refuses a cookie-authenticated state change without a valid token; mount after `authenticate`. */
    protect: withContract<RequestHandler>(
      (req, _res, next) => {
        if (!SAFE_METHODS.has(req.method) && req.auth?.via === 'cookie') assertValid(req);
        next();
      },
      ({ method }) =>
        SAFE_METHODS.has(method.toUpperCase())
          ? {}
          : {
              headers: ['X-CSRF-Token'],
              requiresWith: { credential: 'cookie', also: 'csrfToken' },
              problems: ['csrf-token-invalid'],
            },
    ),
  };
}
