import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler, Response } from 'express';
import { withContract } from './contract.js';
import { ForbiddenError } from './errors.js';
import { BASE_COOKIE, CSRF_COOKIE } from './session-cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** csrf-csrf's token: a SHA-256 HMAC and 32 random bytes, both in hex, and a delimiter between them. */
export const CSRF_TOKEN_LENGTH = 129;

export type Csrf = ReturnType<typeof createCsrf>;

/**
 * CSRF protection for cookie sessions: csrf-csrf's signed double submit (docs/adr/0008). The token is an HMAC over
 * the session id and a random value, set in an HttpOnly cookie and handed to the web app in the body; a
 * state-changing request authenticated by cookie must echo it in `X-CSRF-Token`. Binding it to the session means a
 * token obtained in one session (an attacker's own) is worthless in another. Bearer requests need none: a browser
 * never adds an Authorization header on its own.
 */
export function createCsrf(secret: string, options: { cookieMaxAgeMs: number }) {
  // The session a token is issued or checked for, when it is not the request's principal (login, refresh).
  const sessionFor = new WeakMap<Request, string>();
  const csrf = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => sessionFor.get(req) ?? (req.auth?.kind === 'session' ? req.auth.sessionId : ''),
    cookieName: CSRF_COOKIE,
    // As long as the refresh cookie: after a browser restart the page resumes its session with both (`resume`).
    cookieOptions: { ...BASE_COOKIE, path: '/', maxAge: options.cookieMaxAgeMs },
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
    /** A fresh token for `sessionId`, also set as the CSRF cookie (sign-in, refresh). */
    issue(req: Request, res: Response, sessionId: string): string {
      sessionFor.set(req, sessionId);
      return csrf.generateCsrfToken(req, res, { overwrite: true });
    },
    /**
     * The token of the CSRF cookie when it is valid for `sessionId`, else a fresh one: asking again (another tab, a
     * reload) does not invalidate the token other pages of the session hold.
     */
    current(req: Request, res: Response, sessionId: string): string {
      sessionFor.set(req, sessionId);
      return csrf.generateCsrfToken(req, res, { overwrite: false });
    },
    /**
     * The token of the CSRF cookie, only when the request carries one valid for `sessionId`: a page resuming its
     * session from the refresh cookie alone. The `__Host-` cookie cannot be planted by another host of the site, as
     * a `__Secure-` refresh cookie with a parent `Domain` can, so a planted session cannot be resumed.
     */
    resume(req: Request, res: Response, sessionId: string): string | undefined {
      if (!(req.cookies as Record<string, unknown> | undefined)?.[CSRF_COOKIE]) return undefined;
      sessionFor.set(req, sessionId);
      try {
        return csrf.generateCsrfToken(req, res, { overwrite: false, validateOnReuse: true });
      } catch {
        return undefined;
      }
    },
    assertValid,
    /** Refuses a cookie-authenticated state change without a valid token; mount after `authenticate`. */
    protect: withContract<RequestHandler>(
      (req, _res, next) => {
        if (!SAFE_METHODS.has(req.method) && req.auth?.kind === 'session' && req.auth.via === 'cookie') {
          assertValid(req, req.auth.sessionId);
        }
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
