import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  CreateReminderBody,
  Reminder,
  ReminderDetail,
  ReminderListQuery,
  ReminderPage,
  ReminderParams,
  UpdateReminderBody,
} from './reminders.schemas.js';
import type { RemindersService } from './reminders.service.js';

const tag = 'Reminders';

const LIST = operation({
  operationId: 'listReminders',
  tag,
  summary: 'Your reminders, soonest due first (due date, then id)',
  replies: { 200: json('A page of reminders', ReminderPage) },
  problems: ['invalid-cursor'],
});
const GET = operation({
  operationId: 'getReminder',
  tag,
  summary: 'One reminder, with the delivery of its latest occurrence',
  replies: { 200: json('The reminder', ReminderDetail) },
  problems: ['not-found'],
});
const CREATE = operation({
  operationId: 'createReminder',
  tag,
  summary: 'Create a reminder',
  description: 'Without the `unlimited-reminders` plan feature an account holds at most 10 active reminders.',
  replies: { 201: json('Created', Reminder) },
  problems: ['plan-required'],
});
const UPDATE = operation({
  operationId: 'updateReminder',
  tag,
  summary: 'Change a reminder, complete it (`completedAt`: an instant) or reopen it (`completedAt`: null)',
  description:
    'Completing a daily, weekly or monthly reminder creates its next occurrence in the same transaction, due one ' +
    'day, seven days or one month after this due date (monthly keeps the chosen day of the month, clamped to the ' +
    'month end: Jan 31 → Feb 28 → Mar 31). Completing the same occurrence again, even concurrently, never creates ' +
    'a second one. Reopening does not delete the next occurrence. `completedAt` may not be in the future.',
  replies: { 200: json('The reminder as changed', Reminder) },
  problems: ['not-found', 'validation-failed'],
});
const DELETE = operation({
  operationId: 'deleteReminder',
  tag,
  summary: 'Delete a reminder (its next occurrence, if any, stays)',
  replies: { 204: { description: 'Deleted' } },
  problems: ['not-found'],
});

export function remindersRoutes(svc: RemindersService, deps: { csrf: Csrf; idempotent: RequestHandler }): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth(), deps.csrf.protect);

  const list = validate({ query: ReminderListQuery });
  r.get('/', LIST, list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  const get = validate({ params: ReminderParams });
  r.get('/:id', GET, get, async (req, res) => {
    res.json(await svc.get(principalOf(req).userId, get.input(req).params.id));
  });

  const create = validate({ body: CreateReminderBody });
  r.post('/', CREATE, create, deps.idempotent, async (req, res) => {
    res.status(201).json(await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req)));
  });

  const update = validate({ params: ReminderParams, body: UpdateReminderBody });
  r.patch('/:id', UPDATE, update, async (req, res) => {
    const { params, body } = update.input(req);
    res.json(await svc.update(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  const remove = validate({ params: ReminderParams });
  r.delete('/:id', DELETE, remove, async (req, res) => {
    await svc.remove(principalOf(req).userId, remove.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
