import { type FieldCipher, fieldContext } from '../../platform/crypto.js';
import type { CheckinData, CheckinRow } from './checkins.repo.js';
import type { Checkin, CreateCheckinBody, UpdateCheckinBody } from './checkins.schemas.js';

const notesContext = (userId: string) => fieldContext('user_health_checkins', 'notes_enc', userId);

/** The API view of a row. Notes that do not decrypt throw FieldDecryptionError: a 500, never a guess. */
export function decodeCheckin(cipher: FieldCipher, userId: string, row: CheckinRow): Checkin {
  const { notesEnc, createdAt, updatedAt, ...plain } = row;
  return {
    ...plain,
    notes: notesEnc === null ? null : cipher.decrypt(notesEnc, notesContext(userId)),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

export function encodeCheckin(cipher: FieldCipher, userId: string, body: CreateCheckinBody): CheckinData {
  const { notes, ...plain } = body;
  return { ...plain, notesEnc: notes == null ? null : cipher.encrypt(notes, notesContext(userId)) };
}

/** The fields of a PATCH whose values differ from the stored check-in, and the columns to write for them. */
export function changesOf(
  cipher: FieldCipher,
  userId: string,
  current: Checkin,
  patch: UpdateCheckinBody,
): { fields: (keyof UpdateCheckinBody)[]; data: Partial<CheckinData> } {
  const fields = (Object.keys(patch) as (keyof UpdateCheckinBody)[]).filter((f) => patch[f] !== current[f]);
  const data: Partial<CheckinData> = {};
  for (const field of fields) {
    if (field === 'notes') {
      const notes = patch.notes ?? null;
      data.notesEnc = notes === null ? null : cipher.encrypt(notes, notesContext(userId));
    } else {
      Object.assign(data, { [field]: patch[field] });
    }
  }
  return { fields, data };
}
