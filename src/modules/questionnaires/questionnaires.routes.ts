import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  QuestionnaireList,
  QuestionnaireParams,
  QuestionnaireView,
  Submission,
  SubmissionDetail,
  SubmissionListQuery,
  SubmissionPage,
  SubmissionParams,
  SubmitBody,
} from './questionnaires.schemas.js';
import type { QuestionnairesService } from './questionnaires.service.js';

const tag = 'Questionnaires';

const LIST = operation({
  operationId: 'listQuestionnaires',
  tag,
  summary: 'The questionnaires you can answer, each at its current version',
  replies: { 200: json('The catalog', QuestionnaireList) },
});
const LIST_SUBMISSIONS = operation({
  operationId: 'listQuestionnaireSubmissions',
  tag,
  summary: 'Your submissions, newest first, without their answers',
  replies: { 200: json('A page of submissions', SubmissionPage) },
  problems: ['invalid-cursor'],
});
const GET_SUBMISSION = operation({
  operationId: 'getQuestionnaireSubmission',
  tag,
  summary: 'One of your submissions, with its answers decrypted',
  replies: { 200: json('The submission', SubmissionDetail) },
  problems: ['not-found'],
});
const GET = operation({
  operationId: 'getQuestionnaire',
  tag,
  summary: 'A questionnaire: its questions, scale labels, bands and how it is scored',
  replies: { 200: json('The definition', QuestionnaireView) },
  problems: ['not-found'],
});
const SUBMIT = operation({
  operationId: 'submitQuestionnaire',
  tag,
  summary: 'Answer a questionnaire; answers are stored encrypted, the score, band and recommendations come back',
  description:
    'The answers are checked against the questionnaire: each unknown question, missing answer, or value that is ' +
    'not a whole number on the scale is listed in `errors` (`body.answers.q3`).',
  replies: { 201: json('Scored and stored', Submission) },
  problems: ['not-found', 'validation-failed'],
});

export function questionnairesRoutes(
  svc: QuestionnairesService,
  deps: { csrf: Csrf; idempotent: RequestHandler },
): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth(), deps.csrf.protect);

  r.get('/', LIST, (_req, res) => {
    res.json(svc.list());
  });

  // Before `/:slug`, which would otherwise take "submissions" for a questionnaire.
  const listSubmissions = validate({ query: SubmissionListQuery });
  r.get('/submissions', LIST_SUBMISSIONS, listSubmissions, async (req, res) => {
    res.json(await svc.submissions(principalOf(req).userId, listSubmissions.input(req).query));
  });

  const getSubmission = validate({ params: SubmissionParams });
  r.get('/submissions/:id', GET_SUBMISSION, getSubmission, async (req, res) => {
    res.json(await svc.submission(principalOf(req).userId, getSubmission.input(req).params.id));
  });

  const getOne = validate({ params: QuestionnaireParams });
  r.get('/:slug', GET, getOne, (req, res) => {
    res.json(svc.get(getOne.input(req).params.slug));
  });

  const submit = validate({ params: QuestionnaireParams, body: SubmitBody });
  r.post('/:slug/submissions', SUBMIT, submit, deps.idempotent, async (req, res) => {
    const { params, body } = submit.input(req);
    res.status(201).json(await svc.submit(principalOf(req).userId, params.slug, body, requestContext(req)));
  });

  return r;
}
