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

/**
 * zxcvbn's matching grows much faster than the password: on 128 digits its l33t matcher alone ran for over a second
 * of CPU, blocking the event loop (and every other request of the process) for that long. It therefore judges only
 * the first STRENGTH_JUDGED_CHARS characters (UTF-16 units), and tries at most L33T_VARIANTS readings of l33t
 * substitutions (its default is 100: each is matched again against every dictionary). Both bounds keep any allowed
 * password under a few tens of milliseconds (test/modules/auth/password-policy.test.ts) and lose little: the
 * characters after the judged ones only add guesses, so a password judged strong by its start is at least that
 * strong; and the first reading substitutes every l33t character at once, which is what finds `p4ssw0rd`.
 */
export const STRENGTH_JUDGED_CHARS = 32;
const L33T_VARIANTS = 3;

// Built once: loading the dictionaries takes tens of milliseconds.
const zxcvbn = new ZxcvbnFactory({
  maxLength: STRENGTH_JUDGED_CHARS,
  l33tMaxSubstitutions: L33T_VARIANTS,
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
      // Cut as the password is, so a long email given as the password still matches it where it is judged.
      return [
        value,
        value.slice(0, STRENGTH_JUDGED_CHARS),
        local,
        local.replace(/[\s._+-]+/g, ''),
        ...value.split(/[@\s._+-]+/),
      ];
    })
    .filter((v) => v.length >= 3);
  const result = zxcvbn.check(normalized, inputs);
  if (result.score < MIN_SCORE) {
    const hint = result.feedback.warning ?? result.feedback.suggestions[0];
    problems.push({ path: field, message: `is too easy to guess${hint ? `: ${hint}` : ''}` });
  }
  return problems;
}
