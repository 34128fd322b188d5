import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';
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

/** Integer cents. A string, a fraction or a number beyond `max` (every unsafe integer is) is a 422 on the field. */
const cents = (max: number, example: number, description: string) =>
  z
    .number({ error: 'must be a whole number of cents' })
    .int({ message: 'must be a whole number of cents' })
    .min(0)
    .max(max)
    .nullable()
    .optional()
    .meta({ description: `${description}, in cents (0 to ${max.toLocaleString('en-US')})`, example });

export const TimeZone = z
  .string()
  .max(64)
  .refine((name) => canonicalTimeZone(name) !== undefined, { message: 'is not an IANA time zone name' })
  .overwrite((name) => canonicalTimeZone(name) ?? name)
  .meta({ description: 'IANA time zone name; decides what "today" is for check-ins', example: 'America/New_York' });

/**
 * PUT replaces the whole profile: a field left out (or null) is cleared, `timezone` falls back to UTC and `goals`
 * to none. An unknown field is a 422, not silently dropped.
 */
export const PutProfileBody = z
  .strictObject({
    monthlyIncomeCents: cents(100_000_000, 625_000, 'Monthly take-home income'),
    currentSavingsCents: cents(10_000_000_000, 1_250_000, 'Savings today'),
    currentDebtCents: cents(10_000_000_000, 3_480_000, 'Debt today'),
    householdSize: z.number().int().min(1).max(20).nullable().optional().meta({ example: 2 }),
    dependents: z.number().int().min(0).max(20).nullable().optional().meta({ example: 1 }),
    city: z.string().trim().min(1).max(100).nullable().optional().meta({ example: 'Atlanta' }),
    state: z
      .enum(US_STATES, { message: 'must be an upper-case US state or territory code' })
      .nullable()
      .optional()
      .meta({ example: 'GA' }),
    zipCode: z
      .string()
      .regex(/^\d{5}(-\d{4})?$/, { message: 'must be a US ZIP code: 12345 or 12345-6789' })
      .nullable()
      .optional()
      .meta({ example: '30303' }),
    employmentStatus: z.enum(EMPLOYMENT_STATUSES).nullable().optional().meta({ example: 'employed_full_time' }),
    ageRange: z.enum(AGE_RANGES).nullable().optional().meta({ example: '25-34' }),
    timezone: TimeZone.optional(),
    goals: z
      .array(z.enum(GOALS))
      .max(GOALS.length)
      .refine((goals) => new Set(goals).size === goals.length, { message: 'must not repeat a goal' })
      .optional()
      .meta({ example: ['emergency_fund', 'pay_off_debt'] }),
  })
  .meta({ id: 'PutProfile' });
export type PutProfileBody = z.infer<typeof PutProfileBody>;

const Cents = z.number().int().nullable();

export const Profile = z
  .object({
    monthlyIncomeCents: Cents.meta({ example: 625_000 }),
    currentSavingsCents: Cents.meta({ example: 1_250_000 }),
    currentDebtCents: Cents.meta({ example: 3_480_000 }),
    householdSize: z.number().int().nullable().meta({ example: 2 }),
    dependents: z.number().int().nullable().meta({ example: 1 }),
    city: z.string().nullable().meta({ example: 'Atlanta' }),
    state: z.enum(US_STATES).nullable().meta({ example: 'GA' }),
    zipCode: z.string().nullable().meta({ example: '30303' }),
    employmentStatus: z.enum(EMPLOYMENT_STATUSES).nullable().meta({ example: 'employed_full_time' }),
    ageRange: z.enum(AGE_RANGES).nullable().meta({ example: '25-34' }),
    timezone: z.string().meta({ example: 'America/New_York' }),
    goals: z.array(z.enum(GOALS)).meta({ example: ['emergency_fund', 'pay_off_debt'] }),
    updatedAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'null until the profile is first saved', example: '2026-11-25T09:30:00.000Z' }),
  })
  .meta({ id: 'Profile', description: 'Financial and household profile; unset fields are null' });
export type Profile = z.infer<typeof Profile>;

/** The fields a PUT sets: everything but `updatedAt`. Audit rows name these. */
export type ProfileFields = Omit<Profile, 'updatedAt'>;
export const PROFILE_FIELDS = Object.keys(PutProfileBody.shape) as (keyof ProfileFields)[];

export function describeProfilesApi(registry: OpenAPIRegistry) {
  const tags = ['Profile'];
  const security = [{ [SECURITY.bearer]: [] }];
  const path = '/api/v1/profile';
  registry.registerPath({
    method: 'get',
    path,
    tags,
    summary: 'Your profile (API keys may call it)',
    description:
      'Never 404: a profile never saved is answered as an empty profile (every field null, `timezone` "UTC", ' +
      '`goals` [], `updatedAt` null).',
    security,
    responses: { 200: json('The profile', Profile), 401: problem('Not signed in') },
  });
  registry.registerPath({
    method: 'put',
    path,
    tags,
    summary: 'Replace your profile',
    description:
      'Full replacement, not a merge: a field left out or null is cleared, `timezone` left out becomes "UTC" and ' +
      '`goals` left out becomes []. Money fields are JSON integers of cents (a string, a fraction or an unsafe ' +
      'integer is a 422 naming the field); they are stored encrypted. The change is audited by field name only.',
    security,
    request: { body: { content: { 'application/json': { schema: PutProfileBody } } } },
    responses: {
      200: json('The saved profile', Profile),
      401: problem('Not signed in'),
      403: problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token'),
      404: problem('The account no longer exists'),
      422: problem('Invalid or unknown fields; `errors` names each'),
    },
  });
}
