import { Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { ApiKeyListQuery, ApiKeyParams, CreateApiKeyBody } from './api-keys.schemas.js';
import type { ApiKeysService } from './api-keys.service.js';

export function apiKeysRoutes(svc: ApiKeysService, deps: { csrf: Csrf }): Router {
  const r = Router();
  // Sessions only, even to list: a leaked key must not mint more keys nor learn which others exist.
  r.use(requireAuth({ apiKeys: false }), deps.csrf.protect);

  const create = validate({ body: CreateApiKeyBody });
  // No Idempotency-Key: its stored answer would be a second copy of the key, which is shown once and kept hashed.
  r.post('/', create, async (req, res) => {
    res.status(201).json(await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req)));
  });

  const list = validate({ query: ApiKeyListQuery });
  r.get('/', list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  const revoke = validate({ params: ApiKeyParams });
  r.delete('/:id', revoke, async (req, res) => {
    await svc.revoke(principalOf(req).userId, revoke.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
