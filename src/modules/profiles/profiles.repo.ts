import { clientOf, type Queryable } from '../../platform/db-access.js';

/** A user_profiles row as stored: money still encrypted. */
export interface ProfileRow {
  monthlyIncomeEnc: string | null;
  currentSavingsEnc: string | null;
  currentDebtEnc: string | null;
  householdSize: number | null;
  dependents: number | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  employmentStatus: string | null;
  ageRange: string | null;
  timezone: string;
  reminderHour: number;
  goals: string[];
  updatedAt: Date;
}
export type ProfileData = Omit<ProfileRow, 'updatedAt'>;

const COLUMNS = {
  monthlyIncomeEnc: true,
  currentSavingsEnc: true,
  currentDebtEnc: true,
  householdSize: true,
  dependents: true,
  city: true,
  state: true,
  zipCode: true,
  employmentStatus: true,
  ageRange: true,
  timezone: true,
  reminderHour: true,
  goals: true,
  updatedAt: true,
} as const;

/**
 * Serialises profile writes of one user until the transaction ends, so two concurrent PUTs each compare against
 * what the other wrote and audit the fields that really changed. NO KEY UPDATE does not block the KEY SHARE locks
 * that inserting rows referencing the user takes. False when the account no longer exists.
 */
export async function lockUserForProfile(tx: Queryable, userId: string): Promise<boolean> {
  const rows = await clientOf(tx).$queryRaw<
    unknown[]
  >`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  return rows.length === 1;
}

export function findProfile(db: Queryable, userId: string): Promise<ProfileRow | null> {
  return clientOf(db).userProfile.findUnique({ where: { userId }, select: COLUMNS });
}

export function saveProfile(tx: Queryable, userId: string, data: ProfileData): Promise<ProfileRow> {
  return clientOf(tx).userProfile.upsert({
    where: { userId },
    create: { userId, ...data },
    update: data,
    select: COLUMNS,
  });
}

/** The user's time zone name; undefined when they never saved a profile. */
export async function findTimeZone(db: Queryable, userId: string): Promise<string | undefined> {
  const row = await clientOf(db).userProfile.findUnique({ where: { userId }, select: { timezone: true } });
  return row?.timezone;
}

export async function deleteProfile(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).userProfile.deleteMany({ where: { userId } });
}
