import { financialWellbeing } from './definitions/financial-wellbeing.js';
import { moneyStress } from './definitions/money-stress.js';
import type { QuestionnaireDefinition } from './questionnaire.definition.js';

/** `/questionnaires/submissions` is a route of its own, so no questionnaire may take that slug. */
const RESERVED_SLUGS = new Set(['submissions']);
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Refuses a definition that the scoring could misread: duplicate ids, a scale that is not consecutive whole numbers,
 * bands with gaps or overlaps. Thrown when the catalog is built, so a broken definition stops the process at start.
 */
export function assertWellFormed(def: QuestionnaireDefinition): void {
  const fail = (why: string) => {
    throw new Error(`Questionnaire ${def.slug} v${def.version}: ${why}`);
  };
  if (!SLUG_PATTERN.test(def.slug) || def.slug.length > 64 || RESERVED_SLUGS.has(def.slug)) fail('invalid slug');
  if (!Number.isInteger(def.version) || def.version < 1) fail('version must be a whole number from 1');
  const ids = new Set<string>();
  let scored = 0;
  for (const q of def.questions) {
    if (ids.has(q.id)) fail(`duplicate question id ${q.id}`);
    ids.add(q.id);
    if (q.kind === 'text') {
      if (!Number.isInteger(q.maxLength) || q.maxLength < 1) fail(`${q.id}: maxLength must be positive`);
      continue;
    }
    scored++;
    const first = q.options[0]?.value;
    if (first === undefined || q.options.length < 2) fail(`${q.id}: a scale needs at least two options`);
    q.options.forEach((o, i) => {
      if (!Number.isInteger(o.value) || o.value !== (first ?? 0) + i) fail(`${q.id}: scale values must be consecutive`);
    });
  }
  if (scored === 0) fail('no scored question');
  let next = 0;
  for (const band of def.bands) {
    if (band.min !== next || band.max < band.min) fail(`band ${band.id} must start at ${next}`);
    next = band.max + 1;
  }
  if (next !== 101) fail('bands must cover 0..100');
}

export type QuestionnaireCatalog = ReturnType<typeof createCatalog>;

/** The current version of each questionnaire, by slug. */
export function createCatalog(definitions: readonly QuestionnaireDefinition[]) {
  const bySlug = new Map<string, QuestionnaireDefinition>();
  for (const def of definitions) {
    assertWellFormed(def);
    if (bySlug.has(def.slug)) throw new Error(`Two questionnaires are named ${def.slug}`);
    bySlug.set(def.slug, def);
  }
  return {
    all: (): QuestionnaireDefinition[] => [...bySlug.values()],
    find: (slug: string): QuestionnaireDefinition | undefined => bySlug.get(slug),
  };
}

export const QUESTIONNAIRES = [financialWellbeing, moneyStress] as const;
export const QUESTIONNAIRE_SLUGS = QUESTIONNAIRES.map((d) => d.slug) as [string, ...string[]];
