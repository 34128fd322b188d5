import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';

/** Raised when the document's shape changes incompatibly, so a consumer can tell which shape it reads. */
export const EXPORT_SCHEMA_VERSION = 1;

const Instant = z.iso.datetime();

/** The password confirms an erasure; its rules are the login's (any string up to the policy's maximum). */
export const EraseAccountBody = z
  .strictObject({ password: z.string().min(1).max(128).meta({ example: 'purple-Monkey-dishwasher-88' }) })
  .meta({ id: 'EraseAccount' });
export type EraseAccountBody = z.infer<typeof EraseAccountBody>;

const ExportedAccount = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(['user', 'admin']),
  status: z.enum(['active', 'suspended']),
  passwordChangedAt: Instant.nullable(),
  createdAt: Instant,
  updatedAt: Instant,
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
    apiKeys: [
      {
        id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
        name: 'Budget spreadsheet',
        prefix: 'mk_Q2x1Yj3k',
        scopes: ['read'],
        createdAt: '2026-11-10T12:00:00.000Z',
        lastUsedAt: '2026-11-24T07:58:00.000Z',
        expiresAt: null,
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
    profile: { monthlyIncomeCents: 550000, currentSavingsCents: 1200000, currentDebtCents: 830000, city: 'Atlanta' },
    checkins: [{ checkinDate: '2026-11-24', stressLevel: 4, moodRating: 7, notes: 'Paid off the card' }],
  },
};

export const ExportDocument = z
  .object({
    schemaVersion: z.literal(EXPORT_SCHEMA_VERSION),
    exportedAt: Instant,
    account: ExportedAccount.meta({ description: 'The account row, without the password hash' }),
    sections: z.record(z.string(), z.unknown()).meta({
      description:
        'One entry per kind of personal data, named by the module that stores it (sessions, apiKeys, auditLog, ' +
        'idempotencyKeys, profile, checkins, questionnaire submissions, reminders, billing, bank links). Values ' +
        'are decrypted; secrets (password, token and key hashes, bank access tokens) are never included. Instants ' +
        'are ISO 8601 UTC, dates YYYY-MM-DD, money integer cents in fields named …Cents.',
    }),
  })
  .meta({ id: 'PersonalDataExport', example: EXAMPLE });
export type ExportDocument = z.infer<typeof ExportDocument>;

export function describePrivacyApi(registry: OpenAPIRegistry) {
  const tags = ['Your data (privacy)'];
  const security = [{ [SECURITY.bearer]: [] }];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/users/me/export',
    tags,
    summary: 'Download every datum stored about you, decrypted, as one JSON document (GDPR access and portability)',
    description:
      'Sessions only: an API key is read-only, but this is the most sensitive read there is, and a key leaked to a ' +
      'script must not be able to take everything at once. Sent as an attachment; each export is audited ' +
      '(`privacy.export`) and the document lists its own audit entry.',
    security,
    responses: {
      200: json('The export document', ExportDocument),
      401: problem('Not signed in'),
      403: problem('An API key (exports need a signed-in session)'),
      404: problem('The account no longer exists'),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/users/me',
    tags,
    summary: 'Erase your account and every datum stored about you (GDPR erasure); needs your password',
    description:
      'Synchronous: when the answer comes (204), every row of yours is deleted in one transaction, every session ' +
      'has ended (access tokens included) and web cookies are cleared. Only a pseudonymous audit entry remains ' +
      '(`privacy.erase`, naming a keyed hash of your account id, not the id). A wrong password erases nothing ' +
      '(403). Rate limited like the password change.',
    security,
    request: { body: { content: { 'application/json': { schema: EraseAccountBody } } } },
    responses: {
      204: { description: 'Erased; there is nothing left to answer with' },
      401: problem('Not signed in'),
      403: problem('Wrong password (`invalid-password`), an API key, or a cookie session without X-CSRF-Token'),
      404: problem('The account no longer exists'),
      422: problem('No password, or unknown fields'),
      429: problem('Too many attempts; see Retry-After'),
      503: problem('The rate-limit store is unavailable; retry shortly'),
    },
  });
}
