import { z } from 'zod';
import { Id, Instant, int32, JS_ARRAY_MAX_LENGTH, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';

/** `api_keys.name` is varchar(100). */
const KEY_NAME_MAX_CHARS = 100;

/**
 * Only a name and an optional lifetime: the scope is always `read`, so a `scopes` field (or anything else) sent
 * along is a 422 rather than silently ignored; a client asking for `write` must learn it did not get it.
 */
export const CreateApiKeyBody = z
  .strictObject({
    name: text({ trim: true, min: 1, max: KEY_NAME_MAX_CHARS }).meta({ example: 'Budget spreadsheet' }),
    expiresInDays: int32(1, 365)
      .optional()
      .meta({ description: 'Days until the key stops working; absent: it works until revoked', example: 90 }),
  })
  .meta({ id: 'CreateApiKey' });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const ApiKeyParams = z.object({ id: Id });

export const ApiKeyListQuery = PageQuery;
export type ApiKeyListQuery = z.infer<typeof ApiKeyListQuery>;

export const ApiKey = z
  .object({
    id: Id,
    name: z.string().max(KEY_NAME_MAX_CHARS).meta({ example: 'Budget spreadsheet' }),
    // `mk_` and 8 characters of the secret; the column is varchar(16).
    prefix: z
      .string()
      .max(16)
      .meta({ description: 'The start of the key, to tell keys apart; not secret', example: 'mk_Q2x1Yj3k' }),
    // Keys are read-only: every key is created with the one scope `read`.
    scopes: z
      .array(z.string().max(16))
      .max(1)
      .meta({ example: ['read'] }),
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
    // `mk_` and 32 random bytes in base64url.
    key: z.string().length(46).meta({
      description: 'The key itself, to send as `Authorization: Bearer mk_…`. Shown only in this answer; store it now',
      example: 'mk_Q2x1Yj3kR0x0b1VzY2FsZS1leGFtcGxlLWtleS0wMDA',
    }),
  })
  .meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyPage = pageOf(ApiKey).meta({ id: 'ApiKeyPage' });

/** The `apiKeys` section of the GDPR export: every key, revoked ones included, as the API shows them. */
export const ApiKeysExport = z.array(ApiKey).max(JS_ARRAY_MAX_LENGTH);

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
