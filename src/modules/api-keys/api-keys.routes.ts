import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import type { RateLimits } from '../../http/rate-limits.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import { ApiKeyListQuery, ApiKeyPage, ApiKeyParams, CreateApiKeyBody, CreatedApiKey } from './api-keys.schemas.js';
import type { ApiKeysService } from './api-keys.service.js';

const tag = 'API keys';

const CREATE = operation({
  operationId: 'createApiKey',
  tag,
  summary: 'Create a read-only personal API key; the key is shown only in this answer',
  description:
    "Requires the account's current `password` (a wrong one is 403 `invalid-password`; attempts are limited like " +
    'password changes). The key expires after `expiresInDays` (default 90, at most 365) and is revoked when the ' +
    'password changes or every session is signed out. The scope is always `read`: a `scopes` field (or any other ' +
    'unknown field) is a 422.',
  replies: { 201: json('Created; store `key` now, it cannot be shown again', CreatedApiKey) },
  problems: ['invalid-password', 'email-unverified', 'api-key-limit-reached', 'not-found'],
});
const LIST = operation({
  operationId: 'listApiKeys',
  tag,
  summary: 'Your API keys, newest first, revoked ones included; never their secrets',
  replies: { 200: json('A page of keys', ApiKeyPage) },
  problems: ['invalid-cursor'],
});
const REVOKE = operation({
  operationId: 'revokeApiKey',
  tag,
  summary: 'Revoke an API key; it stops working at once. Revoking a revoked key again is a no-op (204)',
  replies: { 204: { description: 'Revoked' } },
  problems: ['not-found'],
});

export function apiKeysRoutes(svc: ApiKeysService, deps: { csrf: Csrf; limits: RateLimits }): ApiRouter {
  const r = createApiRouter();
  // Sessions only, even to list: a leaked key must not mint more keys nor learn which others exist.
  r.use(requireAuth({ apiKeys: false }), deps.csrf.protect);

  const create = validate({ body: CreateApiKeyBody });
  // No Idempotency-Key: its stored answer would be a second copy of the key, which is shown once and kept hashed.
  // Limited like a password change (per IP and per account): the password check must not become a guessing oracle.
  r.post('/', CREATE, ...deps.limits.password, create, async (req, res) => {
    res.status(201).json(await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req)));
  });

  const list = validate({ query: ApiKeyListQuery });
  r.get('/', LIST, list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  const revoke = validate({ params: ApiKeyParams });
  r.delete('/:id', REVOKE, revoke, async (req, res) => {
    await svc.revoke(principalOf(req).userId, revoke.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
