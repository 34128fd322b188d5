import { describe, expect, it } from 'vitest';
import { financialWellbeing } from '../../../src/modules/questionnaires/definitions/financial-wellbeing.js';
import { moneyStress } from '../../../src/modules/questionnaires/definitions/money-stress.js';
import type { Answers, QuestionnaireDefinition } from '../../../src/modules/questionnaires/questionnaire.definition.js';
import {
  assertWellFormed,
  createCatalog,
  QUESTIONNAIRES,
} from '../../../src/modules/questionnaires/questionnaires.catalog.js';
import { checkAnswers, score } from '../../../src/modules/questionnaires/questionnaires.scoring.js';

const all = (def: QuestionnaireDefinition, value: number): Answers =>
  Object.fromEntries(def.questions.filter((q) => q.kind === 'scale').map((q) => [q.id, value]));

/** Answers worth `points[i]` (0..4) on the i-th scale question, whichever way that question is scored. */
function worth(def: QuestionnaireDefinition, points: number[]): Answers {
  const scale = def.questions.filter((q) => q.kind === 'scale');
  expect(points).toHaveLength(scale.length);
  return Object.fromEntries(scale.map((q, i) => [q.id, q.reverse ? 5 - (points[i] ?? 0) : 1 + (points[i] ?? 0)]));
}

describe('score(financial-wellbeing)', () => {
  const fw = financialWellbeing;
  // Positive items q1 q2 q4 q8; reversed q3 q5 q6 q7 q9 q10. Sum of points (0..40) × 2.5, rounded half up.
  it.each([
    ['every answer 1 (the six reversed items count full)', all(fw, 1), 60, 'high'],
    ['every answer 5 (the four positive items count full)', all(fw, 5), 40, 'medium'],
    ['every answer 3', all(fw, 3), 50, 'medium'],
    ['the best answer to every item', worth(fw, [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]), 100, 'very-high'],
    ['the worst answer to every item', worth(fw, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0, 'very-low'],
    ['1 point: 2.5 rounds half up to 3', worth(fw, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 3, 'very-low'],
    ['7 points: 17.5 → 18, still very low', worth(fw, [4, 3, 0, 0, 0, 0, 0, 0, 0, 0]), 18, 'very-low'],
    ['8 points: exactly 20, the first low score', worth(fw, [4, 4, 0, 0, 0, 0, 0, 0, 0, 0]), 20, 'low'],
    ['15 points: 37.5 → 38, still low', worth(fw, [4, 4, 4, 3, 0, 0, 0, 0, 0, 0]), 38, 'low'],
    ['16 points: exactly 40, the first medium score', worth(fw, [4, 4, 4, 4, 0, 0, 0, 0, 0, 0]), 40, 'medium'],
    ['24 points: exactly 60, the first high score', worth(fw, [4, 4, 4, 4, 4, 4, 0, 0, 0, 0]), 60, 'high'],
    ['31 points: 77.5 → 78, still high', worth(fw, [4, 4, 4, 4, 4, 4, 4, 3, 0, 0]), 78, 'high'],
    ['32 points: exactly 80, the first very high score', worth(fw, [4, 4, 4, 4, 4, 4, 4, 4, 0, 0]), 80, 'very-high'],
    [
      'a mixed form: q1=4 q2=3 q3=2 q4=4 q5=2 q6=3 q7=2 q8=4 q9=1 q10=2',
      { q1: 4, q2: 3, q3: 2, q4: 4, q5: 2, q6: 3, q7: 2, q8: 4, q9: 1, q10: 2 },
      // positive: 3+2+3+3 = 11; reversed: (6-2-1)+(6-2-1)+(6-3-1)+(6-2-1)+(6-1-1)+(6-2-1) = 3+3+2+3+4+3 = 18
      73,
      'high',
    ],
  ])('when %s, scores %i (%s)', (_, answers, expected, band) => {
    const result = score(fw, answers);
    expect(result.score).toBe(expected);
    expect(result.band.id).toBe(band);
    expect(result.band.recommendations.length).toBeGreaterThan(0);
  });

  it('when the same answers are scored twice, gives the same result (pure)', () => {
    const answers = worth(fw, [1, 2, 3, 4, 0, 1, 2, 3, 4, 0]);
    expect(score(fw, answers)).toEqual(score(fw, { ...answers }));
  });
});

describe('score(money-stress)', () => {
  const ms = moneyStress;
  // Higher means more stress; q3 and q6 reversed. Sum of points (0..24) × 100/24, rounded half up.
  it.each([
    ['every answer 1', all(ms, 1), 33, 'moderate'],
    ['every answer 5', all(ms, 5), 67, 'high'],
    ['no stress on any item', worth(ms, [0, 0, 0, 0, 0, 0]), 0, 'low'],
    ['full stress on every item', worth(ms, [4, 4, 4, 4, 4, 4]), 100, 'severe'],
    ['5 points: 20.8 → 21, still low', worth(ms, [4, 1, 0, 0, 0, 0]), 21, 'low'],
    ['6 points: exactly 25, the first moderate score', worth(ms, [4, 2, 0, 0, 0, 0]), 25, 'moderate'],
    ['11 points: 45.8 → 46, still moderate', worth(ms, [4, 4, 3, 0, 0, 0]), 46, 'moderate'],
    ['12 points: exactly 50, the first high score', worth(ms, [4, 4, 4, 0, 0, 0]), 50, 'high'],
    ['17 points: 70.8 → 71, still high', worth(ms, [4, 4, 4, 4, 1, 0]), 71, 'high'],
    ['18 points: exactly 75, the first severe score', worth(ms, [4, 4, 4, 4, 2, 0]), 75, 'severe'],
  ])('when %s, scores %i (%s)', (_, answers, expected, band) => {
    const result = score(ms, answers);
    expect(result.score).toBe(expected);
    expect(result.band.id).toBe(band);
  });

  it('when a free-text answer is present, it does not change the score', () => {
    const answers = worth(ms, [1, 2, 3, 0, 1, 2]);
    expect(score(ms, { ...answers, q7: 'rent went up' })).toEqual(score(ms, answers));
  });
});

describe('band boundaries', () => {
  /** One question on a 0..100 scale scores exactly its value, so every band edge can be hit. */
  const exact = (bands: QuestionnaireDefinition['bands']): QuestionnaireDefinition => ({
    ...financialWellbeing,
    slug: 'exact',
    questions: [
      {
        id: 'x',
        kind: 'scale',
        text: 'x',
        reverse: false,
        options: Array.from({ length: 101 }, (_, value) => ({ value, label: String(value) })),
      },
    ],
    bands,
  });

  for (const def of QUESTIONNAIRES) {
    it(`when a score sits exactly on an edge of a ${def.slug} band, falls in that band`, () => {
      const probe = exact(def.bands);
      def.bands.forEach((band, i) => {
        expect(score(probe, { x: band.min }).band.id).toBe(band.id);
        expect(score(probe, { x: band.max }).band.id).toBe(band.id);
        if (i > 0) expect(score(probe, { x: band.min - 1 }).band.id).toBe(def.bands[i - 1]?.id);
      });
    });
  }
});

describe('checkAnswers', () => {
  const valid = all(financialWellbeing, 3);

  it('when every question has a whole number on its scale, accepts them as given', () => {
    expect(checkAnswers(financialWellbeing, valid)).toEqual({ ok: true, answers: valid });
  });

  it.each([
    [
      'nothing answered',
      {},
      ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q9', 'q10'].map((q) => [q, 'is required']),
    ],
    ['an unknown question', { ...valid, q11: 3 }, [['q11', 'is not a question of this questionnaire']]],
    ['one answer missing', { ...valid, q4: undefined }, [['q4', 'is required']]],
    ['below the scale', { ...valid, q3: 0 }, [['q3', 'must be a whole number from 1 to 5']]],
    ['above the scale', { ...valid, q3: 6 }, [['q3', 'must be a whole number from 1 to 5']]],
    ['a fraction', { ...valid, q3: 2.5 }, [['q3', 'must be a whole number from 1 to 5']]],
    ['a numeric string', { ...valid, q3: '3' }, [['q3', 'must be a whole number from 1 to 5']]],
    ['null', { ...valid, q3: null }, [['q3', 'must be a whole number from 1 to 5']]],
    ['a boolean', { ...valid, q3: true }, [['q3', 'must be a whole number from 1 to 5']]],
    [
      'several problems at once',
      { ...valid, q2: undefined, q5: 9, q9: 'often', extra: 1 },
      [
        ['q2', 'is required'],
        ['q5', 'must be a whole number from 1 to 5'],
        ['q9', 'must be a whole number from 1 to 5'],
        ['extra', 'is not a question of this questionnaire'],
      ],
    ],
  ])('when %s, lists each problem under body.answers', (_, raw, expected) => {
    const result = checkAnswers(financialWellbeing, raw as Record<string, unknown>);
    expect(result).toEqual({
      ok: false,
      errors: expected.map(([q, message]) => ({ path: `body.answers.${q}`, message })),
    });
  });

  describe('free text (money-stress q7)', () => {
    const scale = all(moneyStress, 2);
    it.each([
      ['absent', undefined, scale],
      ['null', null, scale],
      ['blank', '   ', scale],
      ['padded', '  rent went up  ', { ...scale, q7: 'rent went up' }],
      ['exactly 1000 characters', 'x'.repeat(1000), { ...scale, q7: 'x'.repeat(1000) }],
    ])('when %s, is accepted and stored trimmed or dropped', (_, q7, expected) => {
      expect(checkAnswers(moneyStress, { ...scale, q7 })).toEqual({ ok: true, answers: expected });
    });
    it.each([
      ['a number', 5, 'must be text'],
      ['over 1000 characters', 'x'.repeat(1001), 'must be at most 1000 characters'],
    ])('when %s, is refused', (_, q7, message) => {
      expect(checkAnswers(moneyStress, { ...scale, q7 })).toEqual({
        ok: false,
        errors: [{ path: 'body.answers.q7', message }],
      });
    });
  });
});

describe('the catalog', () => {
  it('when built from the shipped definitions, holds financial-wellbeing (10 items) and money-stress', () => {
    const catalog = createCatalog(QUESTIONNAIRES);
    expect(catalog.find('financial-wellbeing')?.questions).toHaveLength(10);
    expect(catalog.find('money-stress')?.questions.filter((q) => q.kind === 'scale')).toHaveLength(6);
    expect(catalog.find('nope')).toBeUndefined();
  });

  const broken: [string, Partial<QuestionnaireDefinition>][] = [
    ['the reserved slug "submissions"', { slug: 'submissions' }],
    ['an upper-case slug', { slug: 'Money' }],
    ['version 0', { version: 0 }],
    [
      'a gap between bands',
      {
        bands: [
          { id: 'a', label: 'a', min: 0, max: 40, recommendations: [] },
          { id: 'b', label: 'b', min: 42, max: 100, recommendations: [] },
        ],
      },
    ],
    ['bands that stop before 100', { bands: [{ id: 'a', label: 'a', min: 0, max: 99, recommendations: [] }] }],
    [
      'overlapping bands',
      {
        bands: [
          { id: 'a', label: 'a', min: 0, max: 50, recommendations: [] },
          { id: 'b', label: 'b', min: 50, max: 100, recommendations: [] },
        ],
      },
    ],
    [
      'two questions with one id',
      { questions: [...financialWellbeing.questions.slice(0, 1), ...financialWellbeing.questions.slice(0, 1)] },
    ],
    [
      'a scale with a hole',
      {
        questions: [
          {
            id: 'q1',
            kind: 'scale',
            text: 't',
            reverse: false,
            options: [
              { value: 1, label: 'a' },
              { value: 3, label: 'b' },
            ],
          },
        ],
      },
    ],
    ['only free text', { questions: [{ id: 'q1', kind: 'text', text: 't', maxLength: 10 }] }],
  ];
  it.each(broken)('when a definition has %s, refuses it at start', (_, change) => {
    expect(() => assertWellFormed({ ...financialWellbeing, ...change })).toThrow();
  });

  it('when two definitions share a slug, refuses them', () => {
    expect(() => createCatalog([financialWellbeing, financialWellbeing])).toThrow(/financial-wellbeing/);
  });
});
