import { type FieldCipher, fieldContext } from '../../platform/crypto.js';
import type { CheckinData, CheckinRow } from './checkins.repo.js';
import type { Checkin, CreateCheckinBody, UpdateCheckinBody } from './checkins.schemas.js';

const notesContext = (userId: string) => fieldContext('user_health_checkins', 'notes_enc', userId);

/**
 * The API view of a row. Notes are bound to their owner and their row (ADR 0009): notes that do not decrypt, such as
 * another check-in's copied into this row, throw FieldDecryptionError, a logged 500, never a guess. Field by field
 * rather than a rest spread: it runs for every row of every history page, and V8 copies a rest object slowly.
 */
export function decodeCheckin(cipher: FieldCipher, userId: string, row: CheckinRow): Checkin {
  return {
    id: row.id,
    checkinDate: row.checkinDate,
    stressLevel: row.stressLevel,
    moodRating: row.moodRating,
    relationshipsRating: row.relationshipsRating,
    sleepHours: row.sleepHours,
    physicalActivityMinutes: row.physicalActivityMinutes,
    mindfulnessMinutes: row.mindfulnessMinutes,
    notes: row.notesEnc === null ? null : cipher.decrypt(row.notesEnc, notesContext(userId), row.id),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The columns of a new check-in whose id is `id` (made by the service: the notes are bound to it). */
export function encodeCheckin(cipher: FieldCipher, userId: string, id: string, body: CreateCheckinBody): CheckinData {
  const { notes, ...plain } = body;
  return { ...plain, notesEnc: notes == null ? null : cipher.encrypt(notes, notesContext(userId), id) };
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
      data.notesEnc = notes === null ? null : cipher.encrypt(notes, notesContext(userId), current.id);
    } else {
      Object.assign(data, { [field]: patch[field] });
    }
  }
  return { fields, data };
}
