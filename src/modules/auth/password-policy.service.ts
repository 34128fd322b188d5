import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import type { FieldError } from '../../http/errors.js';
import { normalizePassword } from '../../platform/password-hash.js';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn's scale: 0 (guessable in under 10^3 tries) to 4 (over 10^10); 3 is "safely unguessable" online. */
const MIN_SCORE = 3;

/**
 * The ~49,000 most common passwords of zxcvbn's maintained common-password list (from leaked password sets),
 * refused outright whatever their estimated strength.
 */
const commonPasswords = new Set(common.dictionary['passwords-common'].map((p) => p.toLowerCase()));

// Built once: loading the dictionaries takes tens of milliseconds.
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
});

export const commonPasswordCount = commonPasswords.size;

/**
 * Why a new password is refused, as field errors for `field`, or [] when it is acceptable. `related` holds what an
 * attacker would try first for this account (email, its local part, the name): zxcvbn treats them as a dictionary.
 */
export function passwordProblems(password: string, related: readonly (string | null | undefined)[], field: string) {
  const problems: FieldError[] = [];
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    problems.push({ path: field, message: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` });
    return problems;
  }
  if (commonPasswords.has(normalized.toLowerCase())) {
    problems.push({ path: field, message: 'is one of the most common passwords; choose another' });
    return problems;
  }
  const inputs = related
    .flatMap((value) => {
      if (!value) return [];
      const local = value.split('@')[0] ?? value;
      return [value, local.replace(/[\s._+-]+/g, ''), ...value.split(/[@\s._+-]+/)];
    })
    .filter((v) => v.length >= 3);
  const result = zxcvbn.check(normalized, inputs);
  if (result.score < MIN_SCORE) {
    const hint = result.feedback.warning ?? result.feedback.suggestions[0];
    problems.push({ path: field, message: `is too easy to guess${hint ? `: ${hint}` : ''}` });
  }
  return problems;
}
