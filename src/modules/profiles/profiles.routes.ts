import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import { Profile, PutProfileBody } from './profiles.schemas.js';
import type { ProfilesService } from './profiles.service.js';

const tag = 'Profile';

const GET = operation({
  operationId: 'getProfile',
  tag,
  summary: 'Your profile (API keys may call it)',
  description:
    'Never 404: a profile never saved is answered as an empty profile (every field null, `timezone` "UTC", ' +
    '`goals` [], `updatedAt` null).',
  replies: { 200: json('The profile', Profile) },
});
const REPLACE = operation({
  operationId: 'replaceProfile',
  tag,
  summary: 'Replace your profile',
  description:
    'Full replacement, not a merge: send every field; null clears one (`goals: []` clears the goals, `timezone` ' +
    'takes a zone name, "UTC" by default). A field left out is a 422 naming it, so that a partial body never ' +
    'clears the rest. Money fields are JSON integers of cents (a string, a fraction or an unsafe integer is a 422 ' +
    'naming the field); they are stored encrypted. The change is audited by field name only.',
  replies: { 200: json('The saved profile', Profile) },
  problems: ['not-found'],
});

export function profilesRoutes(svc: ProfilesService, deps: { csrf: Csrf }): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/', GET, async (req, res) => {
    res.json(await svc.get(principalOf(req).userId));
  });

  const put = validate({ body: PutProfileBody });
  r.put('/', REPLACE, put, async (req, res) => {
    res.json(await svc.replace(principalOf(req).userId, put.input(req).body, requestContext(req)));
  });

  return r;
}
