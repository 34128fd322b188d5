import { Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { validate } from '../../http/validate.js';
import { UpdateMeBody } from './users.schemas.js';
import type { UsersService } from './users.service.js';

export function usersRoutes(svc: UsersService, deps: { csrf: Csrf }): Router {
  const r = Router();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/me', async (req, res) => {
    res.json(await svc.me(principalOf(req).userId));
  });

  const updateMe = validate({ body: UpdateMeBody });
  r.patch('/me', updateMe, async (req, res) => {
    res.json(await svc.updateMe(principalOf(req).userId, updateMe.input(req).body));
  });

  return r;
}
