import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { json, problem, SECURITY } from '../../openapi/components.js';
import type { QuestionnaireDefinition } from './questionnaire.definition.js';
import { QUESTIONNAIRE_SLUGS, SLUG_PATTERN } from './questionnaires.catalog.js';
import type { SubmissionRow } from './questionnaires.repo.js';

export const QuestionnaireParams = z.object({
  slug: z.string().max(64).regex(SLUG_PATTERN, { message: 'must be a questionnaire slug' }),
});
export const SubmissionParams = z.object({ id: z.uuid() });

/**
 * Only the shape here; the answers are checked against the questionnaire's own definition by the service, which
 * lists every problem under `body.answers.<question id>`.
 */
export const SubmitBody = z
  .strictObject({
    answers: z.record(z.string().max(64), z.unknown()).meta({
      description: 'One entry per question id: a whole number on its scale, or text for an optional text question',
      example: { q1: 4, q2: 3, q3: 2, q4: 4, q5: 2, q6: 3, q7: 2, q8: 4, q9: 1, q10: 2 },
    }),
  })
  .meta({ id: 'SubmitQuestionnaire' });
export type SubmitBody = z.infer<typeof SubmitBody>;

export const SubmissionListQuery = PageQuery.extend({
  questionnaire: z
    .enum(QUESTIONNAIRE_SLUGS)
    .optional()
    .meta({ description: 'Only submissions of this questionnaire', example: 'financial-wellbeing' }),
});
export type SubmissionListQuery = z.infer<typeof SubmissionListQuery>;

const Slug = z.string().meta({ example: 'financial-wellbeing' });

export const QuestionnaireSummary = z
  .object({
    slug: Slug,
    title: z.string().meta({ example: 'Financial well-being' }),
    version: z.number().int().meta({ example: 1 }),
    description: z.string(),
    questionCount: z.number().int().meta({ example: 10 }),
  })
  .meta({ id: 'QuestionnaireSummary' });

export const QuestionnaireList = z
  .object({
    data: z.array(QuestionnaireSummary),
    nextCursor: z.null().meta({ description: 'Always null: the catalog fits one page' }),
  })
  .meta({ id: 'QuestionnaireList' });

const ScaleQuestionView = z.object({
  id: z.string().meta({ example: 'q1' }),
  kind: z.literal('scale'),
  text: z.string().meta({ example: 'I could handle a major unexpected expense.' }),
  required: z.literal(true),
  options: z.array(z.object({ value: z.number().int(), label: z.string() })).meta({
    example: [
      { value: 1, label: 'Not at all' },
      { value: 5, label: 'Completely' },
    ],
  }),
});
const TextQuestionView = z.object({
  id: z.string().meta({ example: 'q7' }),
  kind: z.literal('text'),
  text: z.string(),
  required: z.literal(false),
  maxLength: z.number().int().meta({ example: 1000 }),
});

export const QuestionnaireView = z
  .object({
    slug: Slug,
    title: z.string(),
    version: z.number().int().meta({ example: 1 }),
    description: z.string(),
    scoring: z.string().meta({ description: 'How the 0–100 score is computed and what a high score means' }),
    questions: z.array(z.discriminatedUnion('kind', [ScaleQuestionView, TextQuestionView])),
    bands: z
      .array(z.object({ id: z.string(), label: z.string(), min: z.number().int(), max: z.number().int() }))
      .meta({ example: [{ id: 'medium', label: 'Medium', min: 40, max: 59 }] }),
  })
  .meta({ id: 'Questionnaire' });
export type QuestionnaireView = z.infer<typeof QuestionnaireView>;

const submissionFields = {
  id: z.uuid(),
  questionnaire: Slug,
  definitionVersion: z
    .number()
    .int()
    .meta({ description: 'The version of the questionnaire answered; its score is never recomputed', example: 1 }),
  score: z.number().int().min(0).max(100).meta({ example: 58 }),
  band: z.string().meta({ example: 'medium' }),
  recommendations: z
    .array(z.string())
    .meta({ example: ['Build your emergency fund toward one month of essential expenses.'] }),
  submittedAt: z.iso.datetime().meta({ example: '2026-11-25T09:30:00.000Z' }),
};

export const Submission = z.object(submissionFields).meta({ id: 'QuestionnaireSubmission' });
export type Submission = z.infer<typeof Submission>;

export const SubmissionDetail = z
  .object({
    ...submissionFields,
    answers: z
      .record(z.string(), z.union([z.number().int(), z.string()]))
      .meta({ description: 'As submitted (free text trimmed)', example: { q1: 4, q2: 3 } }),
  })
  .meta({ id: 'QuestionnaireSubmissionDetail' });
export type SubmissionDetail = z.infer<typeof SubmissionDetail>;

export const SubmissionPage = pageOf(Submission).meta({ id: 'QuestionnaireSubmissionPage' });

const Recommendations = z.array(z.string());

export function toSubmission(row: SubmissionRow): Submission {
  return {
    id: row.id,
    questionnaire: row.questionnaireSlug,
    definitionVersion: row.definitionVersion,
    score: row.score,
    band: row.band,
    recommendations: Recommendations.parse(row.recommendations),
    submittedAt: row.submittedAt.toISOString(),
  };
}

/** The public definition: everything a client needs to render the form, but not the scoring internals per item. */
export function toQuestionnaireView(def: QuestionnaireDefinition): QuestionnaireView {
  return {
    slug: def.slug,
    title: def.title,
    version: def.version,
    description: def.description,
    scoring: def.scoring,
    questions: def.questions.map((q) =>
      q.kind === 'scale'
        ? { id: q.id, kind: 'scale', text: q.text, required: true, options: q.options.map((o) => ({ ...o })) }
        : { id: q.id, kind: 'text', text: q.text, required: false, maxLength: q.maxLength },
    ),
    bands: def.bands.map((b) => ({ id: b.id, label: b.label, min: b.min, max: b.max })),
  };
}

export function describeQuestionnairesApi(registry: OpenAPIRegistry) {
  const tags = ['Questionnaires'];
  const security = [{ [SECURITY.bearer]: [] }];
  const base = '/api/v1/questionnaires';
  const notSignedIn = problem('Not signed in');

  registry.registerPath({
    method: 'get',
    path: base,
    tags,
    summary: 'The questionnaires you can answer, each at its current version',
    security,
    responses: { 200: json('The catalog', QuestionnaireList), 401: notSignedIn },
  });
  registry.registerPath({
    method: 'get',
    path: `${base}/submissions`,
    tags,
    summary: 'Your submissions, newest first, without their answers',
    security,
    request: { query: SubmissionListQuery },
    responses: {
      200: json('A page of submissions', SubmissionPage),
      400: problem('A cursor this API did not issue'),
      401: notSignedIn,
      422: problem('Invalid limit, or an unknown questionnaire in `questionnaire`'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: `${base}/submissions/{id}`,
    tags,
    summary: 'One of your submissions, with its answers decrypted',
    security,
    request: { params: SubmissionParams },
    responses: {
      200: json('The submission', SubmissionDetail),
      400: problem('The id is not a UUID'),
      401: notSignedIn,
      404: problem('No such submission among yours'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: `${base}/{slug}`,
    tags,
    summary: 'A questionnaire: its questions, scale labels, bands and how it is scored',
    security,
    request: { params: QuestionnaireParams },
    responses: {
      200: json('The definition', QuestionnaireView),
      400: problem('The slug is malformed'),
      401: notSignedIn,
      404: problem('No such questionnaire'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: `${base}/{slug}/submissions`,
    tags,
    summary: 'Answer a questionnaire; answers are stored encrypted, the score, band and recommendations come back',
    description: 'Honours `Idempotency-Key`: a retry with the same key and body replays the first answer.',
    security,
    request: { params: QuestionnaireParams, body: { content: { 'application/json': { schema: SubmitBody } } } },
    responses: {
      201: json('Scored and stored', Submission),
      400: problem('The slug is malformed, or the Idempotency-Key is invalid'),
      401: notSignedIn,
      403: problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token'),
      404: problem('No such questionnaire'),
      409: problem('A request with this Idempotency-Key is still running'),
      422: problem(
        'Each unknown question, missing answer, or value that is not a whole number on the scale is listed in `errors` (`body.answers.q3`); or an Idempotency-Key reused with another body',
      ),
    },
  });
}
