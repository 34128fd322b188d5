import type { FieldCipher } from '../../platform/crypto.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { decodeProfile } from './profiles.codec.js';
import { deleteProfile, findProfile } from './profiles.repo.js';

/** The `profile` section of the GDPR export and erasure: the profile decrypted, or null when never saved. */
export function createProfilesPrivacySection(deps: { cipher: FieldCipher }): PersonalDataSection {
  return {
    name: 'profile',
    async export(db, userId) {
      const row = await findProfile(db, userId);
      return row ? decodeProfile(deps.cipher, userId, row) : null;
    },
    erase: (tx, userId) => deleteProfile(tx, userId),
  };
}
