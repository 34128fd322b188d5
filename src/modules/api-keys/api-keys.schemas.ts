import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { json, problem, SECURITY } from '../../openapi/components.js';

/**
 * Only a name and an optional lifetime: the scope is always `read`, so a `scopes` field (or anything else) sent
 * along is a 422 rather than silently ignored; a client asking for `write` must learn it did not get it.
 */
export const CreateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).meta({ example: 'Budget spreadsheet' }),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .optional()
      .meta({ description: 'Days until the key stops working; absent: it works until revoked', example: 90 }),
  })
  .meta({ id: 'CreateApiKey' });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const ApiKeyParams = z.object({ id: z.uuid() });

export const ApiKeyListQuery = PageQuery;
export type ApiKeyListQuery = z.infer<typeof ApiKeyListQuery>;

const Instant = z.iso.datetime().meta({ example: '2026-11-25T09:30:00.000Z' });

export const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z
      .string()
      .meta({ description: 'The start of the key, to tell keys apart; not secret', example: 'mk_Q2x1Yj3k' }),
    scopes: z.array(z.string()).meta({ example: ['read'] }),
    createdAt: Instant,
    lastUsedAt: Instant.nullable().meta({ description: 'Updated at most once a minute' }),
    expiresAt: Instant.nullable(),
    revokedAt: Instant.nullable(),
  })
  .meta({ id: 'ApiKey', description: 'A personal API key, without its secret (which is shown only once)' });
export type ApiKey = z.infer<typeof ApiKey>;

export const CreatedApiKey = z
  .object({
    apiKey: ApiKey,
    key: z.string().meta({
      description: 'The key itself, to send as `Authorization: Bearer mk_…`. Shown only in this answer; store it now',
      example: 'mk_Q2x1Yj3kR0x0b1VzY2FsZS1leGFtcGxlLWtleS0wMDA',
    }),
  })
  .meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyPage = pageOf(ApiKey).meta({ id: 'ApiKeyPage' });

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** The one public view of a key: never its hash. */
export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function describeApiKeysApi(registry: OpenAPIRegistry) {
  const tags = ['API keys'];
  const security = [{ [SECURITY.bearer]: [] }];
  const path = '/api/v1/auth/api-keys';
  const notSignedIn = problem('Not signed in');
  const forbidden = problem('An API key (keys cannot manage keys), or a cookie session without a valid X-CSRF-Token');

  registry.registerPath({
    method: 'post',
    path,
    tags,
    summary: 'Create a read-only personal API key; the key is shown only in this answer',
    security,
    request: { body: { content: { 'application/json': { schema: CreateApiKeyBody } } } },
    responses: {
      201: json('Created; store `key` now, it cannot be shown again', CreatedApiKey),
      401: notSignedIn,
      403: forbidden,
      409: problem('Too many live keys: revoke one first'),
      422: problem('Invalid or unknown fields (`scopes` cannot be chosen)'),
    },
  });
  registry.registerPath({
    method: 'get',
    path,
    tags,
    summary: 'Your API keys, newest first, revoked ones included; never their secrets',
    security,
    request: { query: ApiKeyListQuery },
    responses: {
      200: json('A page of keys', ApiKeyPage),
      400: problem('A cursor this API did not issue'),
      401: notSignedIn,
      403: forbidden,
      422: problem('Invalid limit'),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: `${path}/{id}`,
    tags,
    summary: 'Revoke an API key; it stops working at once. Revoking a revoked key again is a no-op (204)',
    security,
    request: { params: ApiKeyParams },
    responses: {
      204: { description: 'Revoked' },
      400: problem('The id is not a UUID'),
      401: notSignedIn,
      403: forbidden,
      404: problem('No such key among yours'),
    },
  });
}
