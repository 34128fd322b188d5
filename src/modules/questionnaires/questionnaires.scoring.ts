import type { FieldError } from '../../http/errors.js';
import type { Answers, Band, QuestionnaireDefinition } from './questionnaire.definition.js';

export interface ScoreResult {
  score: number;
  band: Band;
}

/**
 * Checks raw answers against a definition and lists EVERY problem (unknown question, missing answer, value that is
 * not a whole number on the scale, text too long), so a form can mark all of them at once. On success, returns the
 * answers as stored: known questions only, free text trimmed, blank or null free text dropped.
 */
export function checkAnswers(
  def: QuestionnaireDefinition,
  raw: Record<string, unknown>,
  pathPrefix = 'body.answers',
): { ok: true; answers: Answers } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const answers: Answers = {};
  const known = new Set(def.questions.map((q) => q.id));
  for (const q of def.questions) {
    const value = Object.hasOwn(raw, q.id) ? raw[q.id] : undefined;
    const path = `${pathPrefix}.${q.id}`;
    if (q.kind === 'text') {
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') errors.push({ path, message: 'must be text' });
      else if (value.trim().length > q.maxLength)
        errors.push({ path, message: `must be at most ${q.maxLength} characters` });
      else if (value.trim() !== '') answers[q.id] = value.trim();
      continue;
    }
    const min = q.options[0]?.value ?? 0;
    const max = q.options.at(-1)?.value ?? 0;
    if (value === undefined) errors.push({ path, message: 'is required' });
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      errors.push({ path, message: `must be a whole number from ${min} to ${max}` });
    } else answers[q.id] = value;
  }
  for (const id of Object.keys(raw)) {
    if (!known.has(id))
      errors.push({ path: `${pathPrefix}.${id}`, message: 'is not a question of this questionnaire' });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, answers };
}

/**
 * The 0–100 score of checked answers: each scale answer counts its value, reversed items (lowest + highest − value),
 * and the sum's possible range is mapped linearly onto 0–100, rounded half up. Pure: same input, same score.
 */
export function score(def: QuestionnaireDefinition, answers: Answers): ScoreResult {
  let points = 0;
  let span = 0;
  for (const q of def.questions) {
    if (q.kind !== 'scale') continue;
    const value = answers[q.id];
    const min = q.options[0]?.value ?? 0;
    const max = q.options.at(-1)?.value ?? 0;
    if (typeof value !== 'number') throw new Error(`score(): ${def.slug} ${q.id} is not answered`);
    points += (q.reverse ? max + min - value : value) - min;
    span += max - min;
  }
  // Integers until the one division, so 62.5 rounds to 63 rather than to whatever binary floating point makes of it.
  const result = Math.floor((200 * points + span) / (2 * span));
  const band = def.bands.find((b) => result >= b.min && result <= b.max);
  if (!band) throw new Error(`score(): ${def.slug} has no band for ${result}`);
  return { score: result, band };
}
