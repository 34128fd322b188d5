import type { FieldCipher } from '../../platform/crypto.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { openAnswers } from './questionnaires.answers.js';
import { allSubmissions, deleteSubmissions } from './questionnaires.repo.js';
import { toSubmission } from './questionnaires.schemas.js';

/** Every submission of the user, oldest first, with its answers decrypted (free text included). */
export function createQuestionnairesPrivacySection(deps: { cipher: FieldCipher }): PersonalDataSection {
  return {
    name: 'questionnaireSubmissions',
    async export(db, userId) {
      const rows = await allSubmissions(db, userId);
      return rows.map((row) => ({
        ...toSubmission(row),
        answers: openAnswers(deps.cipher, userId, row.id, row.answersEnc),
      }));
    },
    erase: (tx, userId) => deleteSubmissions(tx, userId),
  };
}
