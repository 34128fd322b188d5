import { z } from 'zod';
import type { RequestHeaderName, ResponseHeaderName } from '../http/contract.js';
import { CSRF_TOKEN_LENGTH } from '../http/csrf.js';

/** A response header as the document describes it. */
export interface HeaderObject {
  description: string;
  schema: Record<string, unknown>;
}

/** The request headers the API reads, as header parameters. */
export const REQUEST_HEADERS: Record<RequestHeaderName, z.ZodType> = {
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/)
    .meta({
      description:
        'Makes retries safe: the first answer (status and body) is kept for 24 h and replayed, with ' +
        '`Idempotent-Replayed: true`, to a retry with the same key and the same request. 1 to 255 visible ASCII ' +
        'characters, e.g. a UUID per user action.',
      example: '5f0b6a2e-8a8c-4c1e-9a3e-0e6f5d1c2b7a',
    }),
  'X-CSRF-Token': z
    .string()
    .max(CSRF_TOKEN_LENGTH)
    .regex(/^[\x21-\x7e]+$/)
    .meta({
      description:
        'Web sessions only (a request authenticated by the session cookie): the `csrfToken` of the latest ' +
        'sign-in, refresh or `GET /api/v1/auth/csrf` answer. Refused (403 `csrf-token-invalid`) when missing or ' +
        'not issued for this session. Bearer requests need none.',
    }),
  'X-Client': z.enum(['web']).meta({
    description:
      '`web` asks for a web session: the tokens are set as HttpOnly cookies instead of being returned, and the ' +
      'answer carries a `csrfToken` for the `X-CSRF-Token` header instead (a `WebSession`).',
  }),
  'Stripe-Signature': z
    .string()
    .max(4096)
    .regex(/^[\x21-\x7e]+$/)
    .meta({ description: "Stripe's signature of the raw body under the webhook's signing secret" }),
  'Plaid-Verification': z
    .string()
    .max(4096)
    .regex(/^[\x21-\x7e]+$/)
    .meta({ description: "Plaid's ES256 JWT over the SHA-256 of the raw body (header `kid`: its key's id)" }),
};

const integerHeader = (description: string): HeaderObject => ({
  description,
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2_147_483_647 },
});
const stringHeader = (description: string, maxLength: number): HeaderObject => ({
  description,
  schema: { type: 'string', maxLength },
});

/** The response headers the API sets, as header components. */
export const RESPONSE_HEADERS: Record<ResponseHeaderName, HeaderObject> = {
  RateLimit: stringHeader(
    'The limit that applies to this request and what is left of it (IETF draft-ietf-httpapi-ratelimit-headers-08), ' +
      'e.g. `"api";r=118;t=42`: 118 requests left, the window resets in 42 s.',
    200,
  ),
  'RateLimit-Policy': stringHeader(
    'The limit itself (IETF draft-ietf-httpapi-ratelimit-headers-08), e.g. `"api";q=120;w=60`: 120 requests per 60 s.',
    200,
  ),
  'Retry-After': integerHeader('Seconds to wait before retrying.'),
  'Idempotent-Replayed': {
    description: '`true` when this answer is the replay of an earlier request with the same `Idempotency-Key`.',
    schema: { type: 'string', enum: ['true'] },
  },
  Location: stringHeader('The URL of the resource created.', 2048),
  'X-Request-ID': stringHeader(
    "The request's id, made by the server (a UUID), also in a problem's `requestId` and on every log line of the " +
      "request: quote it when reporting a problem. A client's own `X-Request-ID` does not replace it: it is logged " +
      'beside it (its first 64 characters of `A-Z a-z 0-9 . _ - :`).',
    36,
  ),
  'Set-Cookie': stringHeader(
    'Web sessions: `__Host-mingus-access` (the access token, Path=/), `__Secure-mingus-refresh` (the refresh ' +
      'token, Path=/api/v1/auth) and `__Host-mingus-csrf` (Path=/), all HttpOnly, Secure and SameSite=Strict; ' +
      'signing out expires them.',
    4096,
  ),
  'Access-Control-Allow-Origin': stringHeader(
    "The request's `Origin`, when it is one of CORS_ORIGINS (with `Access-Control-Allow-Credentials: true`); " +
      'absent otherwise, so browsers on other origins cannot read the answer.',
    2048,
  ),
  'Content-Disposition': stringHeader(
    'Asks a browser to save the answer as a file: `attachment; filename="mingus-export-YYYY-MM-DD.json"`.',
    200,
  ),
  'WWW-Authenticate': stringHeader('The authentication challenge: `Bearer`, or `Bearer error="invalid_token"`.', 200),
};
