import type { FieldCipher } from '../../platform/crypto.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { decodeCheckin } from './checkins.codec.js';
import { allCheckins, deleteAllCheckins } from './checkins.repo.js';

/** The `checkins` section of the GDPR export and erasure: every check-in, oldest first, notes decrypted. */
export function createCheckinsPrivacySection(deps: { cipher: FieldCipher }): PersonalDataSection {
  return {
    name: 'checkins',
    async export(db, userId) {
      return (await allCheckins(db, userId)).map((row) => decodeCheckin(deps.cipher, userId, row));
    },
    erase: (tx, userId) => deleteAllCheckins(tx, userId),
  };
}
