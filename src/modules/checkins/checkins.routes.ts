import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  Checkin,
  CheckinListQuery,
  CheckinPage,
  CheckinParams,
  CheckinSummary,
  CheckinSummaryQuery,
  CreateCheckinBody,
  DEFAULT_SUMMARY_DAYS,
  MAX_SUMMARY_DAYS,
  UpdateCheckinBody,
} from './checkins.schemas.js';
import type { CheckinsService } from './checkins.service.js';

export interface CheckinsRoutesDeps {
  csrf: Csrf;
  idempotent: RequestHandler;
  /** Gate of the summary alone (the plan's wellness-insights entitlement); the rest is part of every plan. */
  insights: RequestHandler;
}

const tag = 'Check-ins';

const CREATE = operation({
  operationId: 'createCheckin',
  tag,
  summary: 'Record a daily check-in (one per date)',
  description: '"Today" is today in the time zone of your profile (UTC when none). `notes` is stored encrypted.',
  replies: { 201: json('Recorded', Checkin, ['Location']) },
  problems: ['checkin-exists', 'checkin-date-in-future'],
});
const LIST = operation({
  operationId: 'listCheckins',
  tag,
  summary: 'Your check-ins, newest date first (API keys may call it)',
  replies: { 200: json('A page of check-ins', CheckinPage) },
  problems: ['invalid-cursor'],
});
const SUMMARY = operation({
  operationId: 'getCheckinSummary',
  tag,
  summary: 'Averages, current streak and week-over-week change of your check-ins',
  description: `\`from\` to \`to\` spans at most ${MAX_SUMMARY_DAYS} days; by default the last ${DEFAULT_SUMMARY_DAYS} days.`,
  replies: { 200: json('The summary', CheckinSummary) },
});
const GET = operation({
  operationId: 'getCheckin',
  tag,
  summary: 'One of your check-ins',
  replies: { 200: json('The check-in', Checkin) },
  problems: ['not-found'],
});
const UPDATE = operation({
  operationId: 'updateCheckin',
  tag,
  summary: 'Change some fields of a check-in',
  description: 'Same rules as creating: a new `checkinDate` may not be after today nor taken by another check-in.',
  replies: { 200: json('The updated check-in', Checkin) },
  problems: ['not-found', 'checkin-exists', 'checkin-date-in-future'],
});
const DELETE = operation({
  operationId: 'deleteCheckin',
  tag,
  summary: 'Delete a check-in',
  replies: { 204: { description: 'Deleted' } },
  problems: ['not-found'],
});

export function checkinsRoutes(svc: CheckinsService, deps: CheckinsRoutesDeps): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth(), deps.csrf.protect);

  const create = validate({ body: CreateCheckinBody });
  r.post('/', CREATE, create, deps.idempotent, async (req, res) => {
    const checkin = await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req));
    res.status(201).location(`${req.baseUrl}/${checkin.id}`).json(checkin);
  });

  const list = validate({ query: CheckinListQuery });
  r.get('/', LIST, list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  // Before `/:id`, which would refuse "summary" as a malformed id.
  const summary = validate({ query: CheckinSummaryQuery });
  r.get('/summary', SUMMARY, deps.insights, summary, async (req, res) => {
    res.json(await svc.summary(principalOf(req).userId, summary.input(req).query));
  });

  const byId = validate({ params: CheckinParams });
  r.get('/:id', GET, byId, async (req, res) => {
    res.json(await svc.get(principalOf(req).userId, byId.input(req).params.id));
  });

  const patch = validate({ params: CheckinParams, body: UpdateCheckinBody });
  r.patch('/:id', UPDATE, patch, async (req, res) => {
    const { params, body } = patch.input(req);
    res.json(await svc.update(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  r.delete('/:id', DELETE, byId, async (req, res) => {
    await svc.remove(principalOf(req).userId, byId.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
