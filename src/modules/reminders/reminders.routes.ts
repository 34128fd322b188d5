import { type RequestHandler, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { CreateReminderBody, ReminderListQuery, ReminderParams, UpdateReminderBody } from './reminders.schemas.js';
import type { RemindersService } from './reminders.service.js';

export function remindersRoutes(svc: RemindersService, deps: { csrf: Csrf; idempotent: RequestHandler }): Router {
  const r = Router();
  r.use(requireAuth(), deps.csrf.protect);

  const list = validate({ query: ReminderListQuery });
  r.get('/', list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  const create = validate({ body: CreateReminderBody });
  r.post('/', create, deps.idempotent, async (req, res) => {
    res.status(201).json(await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req)));
  });

  const update = validate({ params: ReminderParams, body: UpdateReminderBody });
  r.patch('/:id', update, async (req, res) => {
    const { params, body } = update.input(req);
    res.json(await svc.update(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  const remove = validate({ params: ReminderParams });
  r.delete('/:id', remove, async (req, res) => {
    await svc.remove(principalOf(req).userId, remove.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
