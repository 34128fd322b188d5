import { z } from 'zod';
import { cents, Instant, int32, text } from '../../http/field-schemas.js';
import { canonicalTimeZone } from './time-zone.js';

/** USPS codes: the 50 states, DC, the inhabited territories, and the armed-forces "states" of military mail. */
// biome-ignore format: one code per line would take 59 lines
export const US_STATES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY', 'LA', 'ME',
  'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA',
  'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV', 'WI', 'WY', 'DC', 'AS', 'GU', 'MP', 'PR', 'VI', 'AA',
  'AE', 'AP',
] as const;

export const EMPLOYMENT_STATUSES = [
  'employed_full_time',
  'employed_part_time',
  'self_employed',
  'contractor',
  'unemployed',
  'student',
  'retired',
  'other',
] as const;

export const AGE_RANGES = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

export const GOALS = [
  'emergency_fund',
  'pay_off_debt',
  'save_for_home',
  'save_for_retirement',
  'build_credit',
  'create_budget',
  'invest',
  'increase_income',
  'reduce_financial_stress',
  'save_for_education',
] as const;

export const DEFAULT_TIME_ZONE = 'UTC';

/** The most each money field holds, in cents: the ranges DESIGN.md gives the profile. */
const MAX_CENTS = {
  monthlyIncomeCents: 100_000_000,
  currentSavingsCents: 10_000_000_000,
  currentDebtCents: 10_000_000_000,
} as const;

/** Integer cents. A string, a fraction or a number beyond `max` (every unsafe integer is) is a 422 on the field. */
const money = (field: keyof typeof MAX_CENTS, example: number, description: string) =>
  cents(0, MAX_CENTS[field], 'must be a whole number of cents')
    .nullable()
    .meta({ description: `${description}, in cents (0 to ${MAX_CENTS[field].toLocaleString('en-US')})`, example });

const HouseholdSize = int32(1, 20);
const Dependents = int32(0, 20);
/** `city` is varchar(100). */
const CITY_MAX_CHARS = 100;
/** US ZIP or ZIP+4; the pattern bounds the length (`zip_code` is varchar(10)). */
const ZIP_CODE = /^\d{5}(-\d{4})?$/;
const ZipCode = z
  .string()
  .regex(ZIP_CODE, { message: 'must be a US ZIP code: 12345 or 12345-6789', abort: true })
  .max(10);
/** `timezone` is varchar(64). */
const TIME_ZONE_MAX_CHARS = 64;

export const TimeZone = z
  .string()
  .max(TIME_ZONE_MAX_CHARS)
  // The characters of IANA names (`America/Port-au-Prince`, `Etc/GMT+5`), before the name itself is looked up.
  .regex(/^[A-Za-z0-9_+\-/]*$/, { message: 'is not an IANA time zone name', abort: true })
  .refine((name) => canonicalTimeZone(name) !== undefined, { message: 'is not an IANA time zone name' })
  .overwrite((name) => canonicalTimeZone(name) ?? name)
  .meta({ description: 'IANA time zone name; decides what "today" is for check-ins', example: 'America/New_York' });

/** The hour (0–23) of the due date, in `timezone`, at which reminders are sent; 9 until set. */
export const DEFAULT_REMINDER_HOUR = 9;
const ReminderHour = int32(0, 23).meta({
  description: 'Hour of the day (0-23, in `timezone`) at which reminders are sent on their due date; 9 by default',
  example: DEFAULT_REMINDER_HOUR,
});

/**
 * PUT replaces the whole profile, so it takes the whole representation: every field is required (null clears a
 * nullable one, `goals: []` clears the goals), and a field left out is a 422 rather than silently cleared. An unknown
 * field is a 422 too, not silently dropped.
 */
export const PutProfileBody = z
  .strictObject({
    monthlyIncomeCents: money('monthlyIncomeCents', 625_000, 'Monthly take-home income'),
    currentSavingsCents: money('currentSavingsCents', 1_250_000, 'Savings today'),
    currentDebtCents: money('currentDebtCents', 3_480_000, 'Debt today'),
    householdSize: HouseholdSize.nullable().meta({ example: 2 }),
    dependents: Dependents.nullable().meta({ example: 1 }),
    city: text({ trim: true, min: 1, max: CITY_MAX_CHARS }).nullable().meta({ example: 'Atlanta' }),
    state: z
      .enum(US_STATES, { message: 'must be an upper-case US state or territory code' })
      .nullable()
      .meta({ example: 'GA' }),
    zipCode: ZipCode.nullable().meta({ example: '30303' }),
    employmentStatus: z.enum(EMPLOYMENT_STATUSES).nullable().meta({ example: 'employed_full_time' }),
    ageRange: z.enum(AGE_RANGES).nullable().meta({ example: '25-34' }),
    timezone: TimeZone,
    reminderHour: ReminderHour,
    goals: z
      .array(z.enum(GOALS))
      .max(GOALS.length)
      .refine((goals) => new Set(goals).size === goals.length, { message: 'must not repeat a goal' })
      .meta({ example: ['emergency_fund', 'pay_off_debt'] }),
  })
  .meta({ id: 'PutProfile' });
export type PutProfileBody = z.infer<typeof PutProfileBody>;

const savedCents = (field: keyof typeof MAX_CENTS) => cents(0, MAX_CENTS[field]).nullable();

export const Profile = z
  .object({
    monthlyIncomeCents: savedCents('monthlyIncomeCents').meta({ example: 625_000 }),
    currentSavingsCents: savedCents('currentSavingsCents').meta({ example: 1_250_000 }),
    currentDebtCents: savedCents('currentDebtCents').meta({ example: 3_480_000 }),
    householdSize: HouseholdSize.nullable().meta({ example: 2 }),
    dependents: Dependents.nullable().meta({ example: 1 }),
    city: z.string().max(CITY_MAX_CHARS).nullable().meta({ example: 'Atlanta' }),
    state: z.enum(US_STATES).nullable().meta({ example: 'GA' }),
    zipCode: ZipCode.nullable().meta({ example: '30303' }),
    employmentStatus: z.enum(EMPLOYMENT_STATUSES).nullable().meta({ example: 'employed_full_time' }),
    ageRange: z.enum(AGE_RANGES).nullable().meta({ example: '25-34' }),
    timezone: z.string().max(TIME_ZONE_MAX_CHARS).meta({ example: 'America/New_York' }),
    reminderHour: ReminderHour,
    goals: z
      .array(z.enum(GOALS))
      .max(GOALS.length)
      .meta({ example: ['emergency_fund', 'pay_off_debt'] }),
    updatedAt: Instant.nullable().meta({ description: 'null until the profile is first saved' }),
  })
  .meta({ id: 'Profile', description: 'Financial and household profile; unset fields are null' });
export type Profile = z.infer<typeof Profile>;

/** The `profile` section of the GDPR export: the profile decrypted, or null when it was never saved. */
export const ProfileExport = Profile.nullable();

/** The fields a PUT sets: everything but `updatedAt`. Audit rows name these. */
export type ProfileFields = Omit<Profile, 'updatedAt'>;
export const PROFILE_FIELDS = Object.keys(PutProfileBody.shape) as (keyof ProfileFields)[];
