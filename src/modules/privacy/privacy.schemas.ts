import { z } from 'zod';
import { Email, Id, Instant, int32, JS_ARRAY_MAX_LENGTH, opaque } from '../../http/field-schemas.js';
import { ApiKeysExport } from '../api-keys/api-keys.schemas.js';
import { AuditLogExport } from '../audit/audit.schemas.js';
import { AccountTokensExport, SessionsExport } from '../auth/auth.schemas.js';
import { BankingExport } from '../banking/banking.schemas.js';
import { CheckinsExport } from '../checkins/checkins.schemas.js';
import { ProfileExport } from '../profiles/profiles.schemas.js';
import { PushSubscriptionsExport } from '../push/push.schemas.js';
import { SubmissionsExport } from '../questionnaires/questionnaires.schemas.js';
import { ReminderDeliveriesExport, RemindersExport } from '../reminders/reminders.schemas.js';
import { BillingExport } from '../subscriptions/subscriptions.schemas.js';
import { UserName, UserRole, UserStatus } from '../users/users.schemas.js';

/** Raised when the document's shape changes incompatibly, so a consumer can tell which shape it reads. */
export const EXPORT_SCHEMA_VERSION = 1;

/** The password confirms an erasure; its rules are the login's (any string up to the policy's maximum). */
export const EraseAccountBody = z
  .strictObject({ password: opaque({ min: 1, max: 128 }).meta({ example: 'purple-Monkey-dishwasher-88' }) })
  .meta({ id: 'EraseAccount' });
export type EraseAccountBody = z.infer<typeof EraseAccountBody>;

const ExportedAccount = z.object({
  id: Id,
  email: Email,
  name: UserName.nullable(),
  role: UserRole,
  status: UserStatus,
  passwordChangedAt: Instant.nullable(),
  createdAt: Instant,
  updatedAt: Instant,
});

/**
 * The `idempotencyKeys` section: the records of the last 24 hours, without the stored answer. The path is that of
 * an idempotent POST; the longest, a questionnaire submission with its 64-character slug, is under 100 characters.
 */
const IdempotencyKeysExport = z
  .array(
    z.object({
      key: z.string().max(255),
      method: z.string().max(10),
      path: z.string().max(128),
      state: z.enum(['in_progress', 'completed']),
      responseStatus: int32(100, 599).nullable(),
      createdAt: Instant,
      expiresAt: Instant,
    }),
  )
  .max(JS_ARRAY_MAX_LENGTH);

/** Each section as the module that stores the data exports it (its `*.privacy.ts`), in the order app.ts lists them. */
const ExportSections = z.object({
  sessions: SessionsExport,
  accountTokens: AccountTokensExport,
  apiKeys: ApiKeysExport,
  auditLog: AuditLogExport,
  idempotencyKeys: IdempotencyKeysExport,
  profile: ProfileExport,
  checkins: CheckinsExport,
  questionnaireSubmissions: SubmissionsExport,
  reminders: RemindersExport,
  reminderDeliveries: ReminderDeliveriesExport,
  pushSubscriptions: PushSubscriptionsExport,
  billing: BillingExport,
  banking: BankingExport,
});

const EXAMPLE = {
  schemaVersion: 1,
  exportedAt: '2026-11-25T10:00:00.000Z',
  account: {
    id: '0b6f3c1e-2f4a-4d59-9a57-6a3b1c2d4e5f',
    email: 'ann@example.com',
    name: 'Ann Lee',
    role: 'user',
    status: 'active',
    passwordChangedAt: null,
    createdAt: '2026-11-01T09:30:00.000Z',
    updatedAt: '2026-11-01T09:30:00.000Z',
  },
  sections: {
    sessions: [
      {
        id: '5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        sessionId: '7c2e9a4b-1d3f-4e5a-8b6c-0d1e2f3a4b5c',
        createdAt: '2026-11-24T08:00:00.000Z',
        lastUsedAt: null,
        expiresAt: '2026-12-24T08:00:00.000Z',
        revokedAt: null,
        replacedById: null,
        userAgent: 'Mingus/1.4 (iPhone; iOS 18.1)',
        ip: '203.0.113.7',
      },
    ],
    accountTokens: [
      {
        id: '3f2e1d0c-9b8a-4f7e-8d6c-5b4a3f2e1d0c',
        purpose: 'password_reset',
        createdAt: '2026-11-20T18:00:00.000Z',
        expiresAt: '2026-11-20T19:00:00.000Z',
        usedAt: '2026-11-20T18:04:00.000Z',
      },
    ],
    apiKeys: [
      {
        id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
        name: 'Budget spreadsheet',
        prefix: 'mk_Q2x1Yj3k',
        scopes: ['read'],
        createdAt: '2026-11-10T12:00:00.000Z',
        lastUsedAt: '2026-11-24T07:58:00.000Z',
        expiresAt: '2027-02-08T12:00:00.000Z',
        revokedAt: null,
      },
    ],
    auditLog: [
      {
        id: '1e2d3c4b-5a6f-4e7d-8c9b-0a1f2e3d4c5b',
        action: 'auth.login',
        byAdministrator: false,
        targetType: 'session',
        targetId: '7c2e9a4b-1d3f-4e5a-8b6c-0d1e2f3a4b5c',
        fields: [],
        ip: '203.0.113.7',
        requestId: '3f0c1c9e-5d8a-4a53-9e8f-2f4b8c1e7a10',
        createdAt: '2026-11-24T08:00:00.000Z',
      },
    ],
    idempotencyKeys: [],
    profile: {
      monthlyIncomeCents: 550000,
      currentSavingsCents: 1200000,
      currentDebtCents: 830000,
      householdSize: 2,
      dependents: 1,
      city: 'Atlanta',
      state: 'GA',
      zipCode: '30303',
      employmentStatus: 'employed_full_time',
      ageRange: '25-34',
      timezone: 'America/New_York',
      reminderHour: 9,
      goals: ['emergency_fund'],
      updatedAt: '2026-11-20T18:00:00.000Z',
    },
    checkins: [
      {
        id: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
        checkinDate: '2026-11-24',
        stressLevel: 4,
        moodRating: 7,
        relationshipsRating: 8,
        sleepHours: 7.5,
        physicalActivityMinutes: 30,
        mindfulnessMinutes: 10,
        notes: 'Paid off the card',
        createdAt: '2026-11-24T21:04:05.000Z',
        updatedAt: '2026-11-24T21:04:05.000Z',
      },
    ],
    questionnaireSubmissions: [],
    reminders: [],
    reminderDeliveries: [],
    pushSubscriptions: [],
    billing: { subscription: null, invoices: [] },
    banking: { items: [], accounts: [], transactions: [] },
  },
};

export const ExportDocument = z
  .object({
    schemaVersion: z.literal(EXPORT_SCHEMA_VERSION),
    exportedAt: Instant,
    account: ExportedAccount.meta({ description: 'The account row, without the password hash' }),
    sections: ExportSections.meta({
      description:
        'One entry per kind of personal data, named by the module that stores it. Values are decrypted; secrets ' +
        '(password, token and key hashes, bank access tokens) are never included. Instants are ISO 8601 UTC, ' +
        'dates YYYY-MM-DD, money integer cents in fields named …Cents.',
    }),
  })
  .meta({ id: 'PersonalDataExport', example: EXAMPLE });
/**
 * The service fills `sections` from the registry of sections at run time, which TypeScript cannot follow;
 * test/modules/privacy/export.test.ts holds an export of every section to this schema instead.
 */
export type ExportDocument = Omit<z.infer<typeof ExportDocument>, 'sections'> & { sections: Record<string, unknown> };
