import type { RequestHandler, Response } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
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
import { json, operation } from '../../openapi/operation.js';
import { EraseAccountBody, ExportDocument } from './privacy.schemas.js';
import type { PrivacyService } from './privacy.service.js';

export interface PrivacyRoutesDeps {
  csrf: Csrf;
  /** The password routes' limits: an erasure guesses a password like a password change does. */
  limits: { password: RequestHandler[] };
}

const tag = 'Your data';

const EXPORT = operation({
  operationId: 'exportMyData',
  tag,
  summary: 'Download every datum stored about you, decrypted, as one JSON document (GDPR access and portability)',
  description:
    'Sessions only: an API key is read-only, but this is the most sensitive read there is, and a key leaked to a ' +
    'script must not be able to take everything at once. Sent as an attachment; each export is audited ' +
    '(`privacy.export`) and the document lists its own audit entry.',
  replies: { 200: json('The export document', ExportDocument, ['Content-Disposition']) },
  problems: ['not-found'],
});
const ERASE = operation({
  operationId: 'eraseMe',
  tag,
  summary: 'Erase your account and every datum stored about you (GDPR erasure); needs your password',
  description:
    'Synchronous: when the answer comes (204), every row of yours is deleted in one transaction, every session ' +
    'has ended (access tokens included) and web cookies are cleared. Only a pseudonymous audit entry remains ' +
    '(`privacy.erase`, naming a keyed hash of your account id, not the id). A wrong password erases nothing ' +
    '(403). Rate limited like the password change.',
  replies: { 204: { description: 'Erased; there is nothing left to answer with', headers: ['Set-Cookie'] } },
  problems: [
    'invalid-password',
    'not-found',
    'erasure-interrupted',
    'billing-not-configured',
    'billing-upstream-failed',
  ],
});

function clearSessionCookies(res: Response) {
  res.clearCookie(ACCESS_COOKIE, { ...BASE_COOKIE, path: '/' });
  res.clearCookie(REFRESH_COOKIE, { ...BASE_COOKIE, path: REFRESH_COOKIE_PATH });
  res.clearCookie(CSRF_COOKIE, { ...BASE_COOKIE, path: '/' });
}

/** Mounted at /users before the users routes; each route carries its own authentication (no router-wide use()). */
export function privacyRoutes(svc: PrivacyService, deps: PrivacyRoutesDeps): ApiRouter {
  const r = createApiRouter();
  // Sessions only: API keys are read-only, but the export is the one read that takes everything at once.
  const sessionsOnly = requireAuth({ apiKeys: false });

  r.get('/me/export', EXPORT, sessionsOnly, async (req, res) => {
    const document = await svc.exportData(principalOf(req).userId, requestContext(req));
    const day = document.exportedAt.slice(0, 10);
    res.attachment(`mingus-export-${day}.json`).json(document);
  });

  const erase = validate({ body: EraseAccountBody });
  r.delete('/me', ERASE, sessionsOnly, deps.csrf.protect, ...deps.limits.password, erase, async (req, res) => {
    await svc.erase(principalOf(req).userId, erase.input(req).body.password, requestContext(req));
    clearSessionCookies(res);
    res.status(204).end();
  });

  return r;
}
