import { describe, expect, it } from 'vitest';
import { QUESTIONNAIRES } from '../../../src/modules/questionnaires/questionnaires.catalog.js';
import {
  DEFINITION_LIMITS,
  QuestionnaireView,
  Submission,
  SubmitBody,
  toQuestionnaireView,
} from '../../../src/modules/questionnaires/questionnaires.schemas.js';

describe('questionnaire definitions against the documented limits', () => {
  it.each(QUESTIONNAIRES.map((def) => [def.slug, def] as const))(
    'when %s is shown, it fits the view schema',
    (_, def) => {
      expect(QuestionnaireView.safeParse(toQuestionnaireView(def)).error?.issues).toBeUndefined();
    },
  );

  it.each(QUESTIONNAIRES.map((def) => [def.slug, def] as const))(
    'when a submission of %s is stored, its band and recommendations fit the submission schema',
    (_, def) => {
      for (const band of def.bands) {
        expect(Submission.shape.band.safeParse(band.id).success, band.id).toBe(true);
        expect(Submission.shape.recommendations.safeParse(band.recommendations).error?.issues, band.id).toBeUndefined();
      }
    },
  );
});

describe('SubmitBody', () => {
  const parse = (answers: unknown) => SubmitBody.safeParse({ answers });

  it('when an answer is a number, text or null, passes it on for the definition to judge', () => {
    expect(parse({ q1: 2.5, q2: '3', q3: null, q7: '  fine  ' }).data).toEqual({
      answers: { q1: 2.5, q2: '3', q3: null, q7: 'fine' },
    });
  });

  it('when an answer is another type, or text longer than any question takes once trimmed, names that answer', () => {
    const long = 'x'.repeat(DEFINITION_LIMITS.textAnswerChars + 1);
    for (const value of [true, { a: 1 }, [1], long]) {
      expect(parse({ q1: value }).error?.issues.map((i) => i.path)).toEqual([['answers', 'q1']]);
    }
    expect(parse({ q1: ` ${'x'.repeat(DEFINITION_LIMITS.textAnswerChars)} ` }).success).toBe(true);
  });
});
