import { type FieldCipher, fieldContext } from '../../platform/crypto.js';
import type { ProfileData, ProfileRow } from './profiles.repo.js';
import { DEFAULT_REMINDER_HOUR, DEFAULT_TIME_ZONE, type Profile, type ProfileFields } from './profiles.schemas.js';

/** The encrypted columns of user_profiles and the field each holds; the column name is part of the context. */
const MONEY = [
  ['monthlyIncomeCents', 'monthlyIncomeEnc', 'monthly_income_enc'],
  ['currentSavingsCents', 'currentSavingsEnc', 'current_savings_enc'],
  ['currentDebtCents', 'currentDebtEnc', 'current_debt_enc'],
] as const;

export const EMPTY_PROFILE: Profile = {
  monthlyIncomeCents: null,
  currentSavingsCents: null,
  currentDebtCents: null,
  householdSize: null,
  dependents: null,
  city: null,
  state: null,
  zipCode: null,
  employmentStatus: null,
  ageRange: null,
  timezone: DEFAULT_TIME_ZONE,
  reminderHour: DEFAULT_REMINDER_HOUR,
  goals: [],
  updatedAt: null,
};

export function encodeProfile(cipher: FieldCipher, userId: string, fields: ProfileFields): ProfileData {
  const { monthlyIncomeCents, currentSavingsCents, currentDebtCents, ...plain } = fields;
  const row: ProfileData = {
    ...plain,
    goals: [...plain.goals],
    monthlyIncomeEnc: null,
    currentSavingsEnc: null,
    currentDebtEnc: null,
  };
  for (const [field, key, column] of MONEY) {
    const value = fields[field];
    row[key] = value === null ? null : cipher.encryptInt(value, fieldContext('user_profiles', column, userId));
  }
  return row;
}

/** The API view of a row. A money value that does not decrypt throws FieldDecryptionError: a 500, never a guess. */
export function decodeProfile(cipher: FieldCipher, userId: string, row: ProfileRow): Profile {
  const money = (key: (typeof MONEY)[number][1], column: string) => {
    const envelope = row[key];
    return envelope === null ? null : cipher.decryptInt(envelope, fieldContext('user_profiles', column, userId));
  };
  return {
    monthlyIncomeCents: money('monthlyIncomeEnc', 'monthly_income_enc'),
    currentSavingsCents: money('currentSavingsEnc', 'current_savings_enc'),
    currentDebtCents: money('currentDebtEnc', 'current_debt_enc'),
    householdSize: row.householdSize,
    dependents: row.dependents,
    city: row.city,
    state: row.state as Profile['state'],
    zipCode: row.zipCode,
    employmentStatus: row.employmentStatus as Profile['employmentStatus'],
    ageRange: row.ageRange as Profile['ageRange'],
    timezone: row.timezone,
    reminderHour: row.reminderHour,
    goals: row.goals as Profile['goals'],
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Names of the fields whose values differ; goals compare as a set (their order carries no meaning). */
export function changedFields(before: ProfileFields, after: ProfileFields): (keyof ProfileFields)[] {
  const same = (a: unknown, b: unknown) =>
    Array.isArray(a) && Array.isArray(b) ? [...a].sort().join() === [...b].sort().join() : a === b;
  return (Object.keys(after) as (keyof ProfileFields)[]).filter((field) => !same(before[field], after[field]));
}
