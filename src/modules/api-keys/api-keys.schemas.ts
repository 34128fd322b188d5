import { z } from 'zod';
import { Id, Instant, int32, JS_ARRAY_MAX_LENGTH, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { PresentedPassword } from '../auth/auth.schemas.js';

/** `api_keys.name` is varchar(100). */
const KEY_NAME_MAX_CHARS = 100;
/** A key's lifetime when the client names none, and the longest it may ask for. */
export const API_KEY_DEFAULT_DAYS = 90;
export const API_KEY_MAX_DAYS = 365;

/**
 * A name, the account's current password and an optional lifetime: the scope is always `read`, so a `scopes` field
 * (or anything else) sent along is a 422 rather than silently ignored; a client asking for `write` must learn it did
 * not get it. The password keeps a stolen session (a token lifted from a device) from minting a key of its own.
 */
export const CreateApiKeyBody = z
  .strictObject({
    name: text({ trim: true, min: 1, max: KEY_NAME_MAX_CHARS }).meta({ example: 'Budget spreadsheet' }),
    password: PresentedPassword.meta({
      description: "The account's current password",
      example: 'purple-Monkey-dishwasher-88',
    }),
    expiresInDays: int32(1, API_KEY_MAX_DAYS)
      .optional()
      .meta({
        description: `Days until the key stops working (1-${API_KEY_MAX_DAYS}); absent: ${API_KEY_DEFAULT_DAYS}`,
        example: API_KEY_DEFAULT_DAYS,
      }),
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
    expiresAt: Instant.meta({ description: 'When the key stops working (401), unless revoked before' }),
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
  expiresAt: Date;
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
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
