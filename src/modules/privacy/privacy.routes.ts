import { type RequestHandler, type Response, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import {
  ACCESS_COOKIE,
  BASE_COOKIE,
  CSRF_COOKIE,
  REFRESH_COOKIE,
  REFRESH_COOKIE_PATH,
} from '../../http/session-cookies.js';
import { validate } from '../../http/validate.js';
import { EraseAccountBody } from './privacy.schemas.js';
import type { PrivacyService } from './privacy.service.js';

export interface PrivacyRoutesDeps {
  csrf: Csrf;
  /** The password routes' limits: an erasure guesses a password like a password change does. */
  limits: { password: RequestHandler[] };
}

function clearSessionCookies(res: Response) {
  res.clearCookie(ACCESS_COOKIE, { ...BASE_COOKIE, path: '/' });
  res.clearCookie(REFRESH_COOKIE, { ...BASE_COOKIE, path: REFRESH_COOKIE_PATH });
  res.clearCookie(CSRF_COOKIE, { ...BASE_COOKIE, path: '/' });
}

/** Mounted at /users before the users routes; each route carries its own authentication (no router-wide use()). */
export function privacyRoutes(svc: PrivacyService, deps: PrivacyRoutesDeps): Router {
  const r = Router();
  // Sessions only: API keys are read-only, but the export is the one read that takes everything at once.
  const sessionsOnly = requireAuth({ apiKeys: false });

  r.get('/me/export', sessionsOnly, async (req, res) => {
    const document = await svc.exportData(principalOf(req).userId, requestContext(req));
    const day = document.exportedAt.slice(0, 10);
    res.attachment(`mingus-export-${day}.json`).json(document);
  });

  const erase = validate({ body: EraseAccountBody });
  r.delete('/me', sessionsOnly, deps.csrf.protect, ...deps.limits.password, erase, async (req, res) => {
    await svc.erase(principalOf(req).userId, erase.input(req).body.password, requestContext(req));
    clearSessionCookies(res);
    res.status(204).end();
  });

  return r;
}
