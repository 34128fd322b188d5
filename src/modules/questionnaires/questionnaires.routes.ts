import { type RequestHandler, Router } from 'express';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { QuestionnaireParams, SubmissionListQuery, SubmissionParams, SubmitBody } from './questionnaires.schemas.js';
import type { QuestionnairesService } from './questionnaires.service.js';

export function questionnairesRoutes(
  svc: QuestionnairesService,
  deps: { csrf: Csrf; idempotent: RequestHandler },
): Router {
  const r = Router();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/', (_req, res) => {
    res.json(svc.list());
  });

  // Before `/:slug`, which would otherwise take "submissions" for a questionnaire.
  const listSubmissions = validate({ query: SubmissionListQuery });
  r.get('/submissions', listSubmissions, async (req, res) => {
    res.json(await svc.submissions(principalOf(req).userId, listSubmissions.input(req).query));
  });

  const getSubmission = validate({ params: SubmissionParams });
  r.get('/submissions/:id', getSubmission, async (req, res) => {
    res.json(await svc.submission(principalOf(req).userId, getSubmission.input(req).params.id));
  });

  const getOne = validate({ params: QuestionnaireParams });
  r.get('/:slug', getOne, (req, res) => {
    res.json(svc.get(getOne.input(req).params.slug));
  });

  const submit = validate({ params: QuestionnaireParams, body: SubmitBody });
  r.post('/:slug/submissions', submit, deps.idempotent, async (req, res) => {
    const { params, body } = submit.input(req);
    res.status(201).json(await svc.submit(principalOf(req).userId, params.slug, body, requestContext(req)));
  });

  return r;
}
