/**
 * Every tag of the documents, described, and the document it belongs to. `client` operations form /openapi.json,
 * what the mobile and web apps (and SDKs generated for them) call; `operator` operations (administration, probes,
 * metrics, webhooks) form /openapi/operator.json, so no client SDK carries them.
 */
export const TAGS = {
  Auth: { audience: 'client', description: 'Accounts and sessions: registration, sign-in, token refresh, sign-out' },
  'API keys': { audience: 'client', description: 'Personal read-only API keys for programmatic access to your data' },
  Users: { audience: 'client', description: 'Your account' },
  Profile: { audience: 'client', description: 'Your financial profile: income, savings, debt, household (encrypted)' },
  'Check-ins': { audience: 'client', description: 'Daily wellbeing check-ins and their summary' },
  Insights: { audience: 'client', description: 'Your money beside your wellbeing' },
  Questionnaires: { audience: 'client', description: 'Financial-health questionnaires, their scores and bands' },
  Reminders: { audience: 'client', description: 'Reminders of bills and money tasks, delivered by email or push' },
  Subscriptions: { audience: 'client', description: 'Plans, Stripe Checkout and the billing portal' },
  Banking: {
    audience: 'client',
    description: 'Bank links through Plaid: linking, syncing, accounts and transactions in integer cents',
  },
  'Your data': { audience: 'client', description: 'Your data: export everything (GDPR access) or erase the account' },
  Documentation: { audience: 'client', description: 'This document and its interactive page' },
  Admin: { audience: 'operator', description: 'Administration of accounts and the audit log (admins only)' },
  Operations: { audience: 'operator', description: 'Probes, status, metrics and the operator document' },
  Webhooks: { audience: 'operator', description: 'Calls from Stripe and Plaid, verified by signature' },
} as const satisfies Record<string, { audience: Audience; description: string }>;

export type Audience = 'client' | 'operator';
export type TagName = keyof typeof TAGS;
