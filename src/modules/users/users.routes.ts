import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import { Me, UpdateMeBody, User } from './users.schemas.js';
import type { UsersService } from './users.service.js';

const tag = 'Users';

const GET_ME = operation({
  operationId: 'getMe',
  tag,
  summary: 'The signed-in account (API keys may call it)',
  replies: { 200: json('The account', Me) },
  problems: ['not-found'],
});
const UPDATE_ME = operation({
  operationId: 'updateMe',
  tag,
  summary: 'Change the display name',
  description: '`name` only (null clears it): `email`, `role`, `status` or any other field is a 422, never applied.',
  replies: { 200: json('The updated account', User) },
  problems: ['not-found'],
});

export function usersRoutes(svc: UsersService, deps: { csrf: Csrf }): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/me', GET_ME, async (req, res) => {
    res.json(await svc.me(principalOf(req).userId));
  });

  const updateMe = validate({ body: UpdateMeBody });
  r.patch('/me', UPDATE_ME, updateMe, async (req, res) => {
    res.json(await svc.updateMe(principalOf(req).userId, updateMe.input(req).body));
  });

  return r;
}
