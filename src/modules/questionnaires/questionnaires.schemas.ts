import { z } from 'zod';
import { Id, INT32_MAX, Instant, int32, JS_ARRAY_MAX_LENGTH, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';
import type { QuestionnaireDefinition } from './questionnaire.definition.js';
import { QUESTIONNAIRE_SLUGS, QUESTIONNAIRES, SLUG_PATTERN } from './questionnaires.catalog.js';
import type { SubmissionRow } from './questionnaires.repo.js';

/**
 * What a definition may hold, so that the document can bound what the API shows and stores of it. Definitions are
 * code: test/modules/questionnaires/questionnaires.schemas.test.ts holds every one of them to these limits.
 */
export const DEFINITION_LIMITS = {
  titleChars: 200,
  descriptionChars: 1_000,
  scoringChars: 2_000,
  questions: 100,
  /** Answers are keyed by question id; a longer key is refused before a definition is looked up. */
  questionIdChars: 64,
  questionChars: 500,
  /** Scale values are whole numbers from 0 to 100, so a scale has at most 101 options. */
  scaleMax: 100,
  labelChars: 100,
  /** Bands cover the scores 0 to 100 without overlap, so there are at most 101; `band` is varchar(32). */
  bands: 101,
  bandIdChars: 32,
  recommendationsPerBand: 10,
  recommendationChars: 500,
  /** The longest free-text answer any question may accept. */
  textAnswerChars: 1_000,
} as const;
const L = DEFINITION_LIMITS;

/** The pattern and length the catalog holds every slug to. */
const Slug = z
  .string()
  .regex(SLUG_PATTERN, { message: 'must be a questionnaire slug', abort: true })
  .max(64)
  .meta({ example: 'financial-wellbeing' });

export const QuestionnaireParams = z.object({ slug: Slug });
export const SubmissionParams = z.object({ id: Id });

const QuestionId = text({ max: L.questionIdChars }).meta({ example: 'q1' });
const ScaleValue = int32(0, L.scaleMax);

/**
 * The shape of each answer here; the service checks them against the questionnaire's own definition (scale,
 * required, unknown questions) and lists every problem under `body.answers.<question id>`. A number off the scale,
 * a fraction included, is the service's to name, so any number passes here.
 */
export const SubmitBody = z
  .strictObject({
    answers: z
      .record(
        QuestionId,
        z.union([z.number(), text({ trim: true, max: L.textAnswerChars, multiline: true }), z.null()], {
          error: 'must be a number, text or null',
        }),
      )
      .meta({
        description:
          'One entry per question id: a whole number on its scale, or text (or null) for an optional text question',
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

const Title = z.string().max(L.titleChars);
const Description = z.string().max(L.descriptionChars);
const Version = int32(1, INT32_MAX).meta({ example: 1 });
const Score = int32(0, 100);

export const QuestionnaireSummary = z
  .object({
    slug: Slug,
    title: Title.meta({ example: 'Financial well-being' }),
    version: Version,
    description: Description,
    questionCount: int32(1, L.questions).meta({ example: 10 }),
  })
  .meta({ id: 'QuestionnaireSummary' });

export const QuestionnaireList = z
  .object({
    data: z.array(QuestionnaireSummary).max(QUESTIONNAIRES.length),
    nextCursor: z.null().meta({ description: 'Always null: the catalog fits one page' }),
  })
  .meta({ id: 'QuestionnaireList' });

const QuestionText = z.string().max(L.questionChars);

const ScaleQuestionView = z.object({
  id: QuestionId,
  kind: z.literal('scale'),
  text: QuestionText.meta({ example: 'I could handle a major unexpected expense.' }),
  required: z.literal(true),
  options: z
    .array(z.object({ value: ScaleValue, label: z.string().max(L.labelChars) }))
    .max(L.scaleMax + 1)
    .meta({
      example: [
        { value: 1, label: 'Not at all' },
        { value: 5, label: 'Completely' },
      ],
    }),
});
const TextQuestionView = z.object({
  id: QuestionId.meta({ example: 'q7' }),
  kind: z.literal('text'),
  text: QuestionText,
  required: z.literal(false),
  maxLength: int32(1, L.textAnswerChars).meta({ example: 1000 }),
});

const Band = z.object({
  id: z.string().max(L.bandIdChars),
  label: z.string().max(L.labelChars),
  min: Score,
  max: Score,
});

export const QuestionnaireView = z
  .object({
    slug: Slug,
    title: Title,
    version: Version,
    description: Description,
    scoring: z
      .string()
      .max(L.scoringChars)
      .meta({ description: 'How the 0–100 score is computed and what a high score means' }),
    questions: z.array(z.discriminatedUnion('kind', [ScaleQuestionView, TextQuestionView])).max(L.questions),
    bands: z
      .array(Band)
      .max(L.bands)
      .meta({ example: [{ id: 'medium', label: 'Medium', min: 40, max: 59 }] }),
  })
  .meta({ id: 'Questionnaire' });
export type QuestionnaireView = z.infer<typeof QuestionnaireView>;

const Recommendations = z.array(z.string().max(L.recommendationChars)).max(L.recommendationsPerBand);

const submissionFields = {
  id: Id,
  questionnaire: Slug,
  definitionVersion: Version.meta({
    description: 'The version of the questionnaire answered; its score is never recomputed',
  }),
  score: Score.meta({ example: 58 }),
  band: z.string().max(L.bandIdChars).meta({ example: 'medium' }),
  recommendations: Recommendations.meta({
    example: ['Build your emergency fund toward one month of essential expenses.'],
  }),
  submittedAt: Instant,
};

export const Submission = z.object(submissionFields).meta({ id: 'QuestionnaireSubmission' });
export type Submission = z.infer<typeof Submission>;

export const SubmissionDetail = z
  .object({
    ...submissionFields,
    answers: z
      .record(QuestionId, z.union([ScaleValue, z.string().max(L.textAnswerChars)]))
      .meta({ description: 'As submitted (free text trimmed)', example: { q1: 4, q2: 3 } }),
  })
  .meta({ id: 'QuestionnaireSubmissionDetail' });
export type SubmissionDetail = z.infer<typeof SubmissionDetail>;

export const SubmissionPage = pageOf(Submission).meta({ id: 'QuestionnaireSubmissionPage' });

/** The `questionnaireSubmissions` section of the GDPR export: every submission, oldest first, answers decrypted. */
export const SubmissionsExport = z.array(SubmissionDetail).max(JS_ARRAY_MAX_LENGTH);

/** Stored as JSON; read back as the list of strings it was written as, whatever its length. */
const StoredRecommendations = z.array(z.string());

export function toSubmission(row: SubmissionRow): Submission {
  return {
    id: row.id,
    questionnaire: row.questionnaireSlug,
    definitionVersion: row.definitionVersion,
    score: row.score,
    band: row.band,
    recommendations: StoredRecommendations.parse(row.recommendations),
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
