import { type RequestHandler, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import {
  CheckinListQuery,
  CheckinParams,
  CheckinSummaryQuery,
  CreateCheckinBody,
  UpdateCheckinBody,
} from './checkins.schemas.js';
import type { CheckinsService } from './checkins.service.js';

export interface CheckinsRoutesDeps {
  csrf: Csrf;
  idempotent: RequestHandler;
  /** Gate of the summary alone (the plan's wellness-insights entitlement); the rest is part of every plan. */
  insights: RequestHandler;
}

export function checkinsRoutes(svc: CheckinsService, deps: CheckinsRoutesDeps): Router {
  const r = Router();
  r.use(requireAuth(), deps.csrf.protect);

  const create = validate({ body: CreateCheckinBody });
  r.post('/', create, deps.idempotent, async (req, res) => {
    const checkin = await svc.create(principalOf(req).userId, create.input(req).body, requestContext(req));
    res.status(201).location(`${req.baseUrl}/${checkin.id}`).json(checkin);
  });

  const list = validate({ query: CheckinListQuery });
  r.get('/', list, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId, list.input(req).query));
  });

  // Before `/:id`, which would refuse "summary" as a malformed id.
  const summary = validate({ query: CheckinSummaryQuery });
  r.get('/summary', deps.insights, summary, async (req, res) => {
    res.json(await svc.summary(principalOf(req).userId, summary.input(req).query));
  });

  const byId = validate({ params: CheckinParams });
  r.get('/:id', byId, async (req, res) => {
    res.json(await svc.get(principalOf(req).userId, byId.input(req).params.id));
  });

  const patch = validate({ params: CheckinParams, body: UpdateCheckinBody });
  r.patch('/:id', patch, async (req, res) => {
    const { params, body } = patch.input(req);
    res.json(await svc.update(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  r.delete('/:id', byId, async (req, res) => {
    await svc.remove(principalOf(req).userId, byId.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
