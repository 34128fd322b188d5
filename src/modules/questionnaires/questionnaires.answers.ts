import { z } from 'zod';
import { type FieldCipher, fieldContext } from '../../platform/crypto.js';
import type { Answers } from './questionnaire.definition.js';

const StoredAnswers = z.record(z.string(), z.union([z.number(), z.string()]));

const context = (userId: string) => fieldContext('financial_questionnaire_submissions', 'answers_enc', userId);

/** Answers (free text included) are only ever at rest as one ciphertext bound to their owner and submission. */
export function sealAnswers(cipher: FieldCipher, userId: string, submissionId: string, answers: Answers): string {
  return cipher.encrypt(JSON.stringify(answers), context(userId), submissionId);
}

/**
 * A value that does not decrypt (another submission's, even of the same user) throws FieldDecryptionError (a logged
 * 500), never shows other answers.
 */
export function openAnswers(cipher: FieldCipher, userId: string, submissionId: string, sealed: string): Answers {
  return StoredAnswers.parse(JSON.parse(cipher.decrypt(sealed, context(userId), submissionId)));
}
