import { Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { PutProfileBody } from './profiles.schemas.js';
import type { ProfilesService } from './profiles.service.js';

export function profilesRoutes(svc: ProfilesService, deps: { csrf: Csrf }): Router {
  const r = Router();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/', async (req, res) => {
    res.json(await svc.get(principalOf(req).userId));
  });

  const put = validate({ body: PutProfileBody });
  r.put('/', put, async (req, res) => {
    res.json(await svc.replace(principalOf(req).userId, put.input(req).body, requestContext(req)));
  });

  return r;
}
