import type { CredentialName } from '../http/contract.js';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../http/session-cookies.js';

/** How each credential appears in the documents: its security scheme's name and definition. */
export const SECURITY_SCHEMES: Record<CredentialName, { name: string; scheme: Record<string, string> }> = {
  bearer: {
    name: 'bearerAuth',
    scheme: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'An access token from sign-in or refresh: a JWS (HS256, the algorithm pinned when verifying; `iss`, `aud` ' +
        'and a 15-minute `exp` checked) following the JWT best current practices of RFC8725. Or a personal API key ' +
        '(`mk_…`), read-only, where the operation allows keys.',
    },
  },
  cookie: {
    name: 'cookieSession',
    scheme: {
      type: 'apiKey',
      in: 'cookie',
      name: ACCESS_COOKIE,
      description:
        'A web session (sign in with `X-Client: web`): the access token in an HttpOnly, Secure, SameSite=Strict ' +
        'cookie. State-changing requests authenticated by it must carry `X-CSRF-Token`.',
    },
  },
  refreshCookie: {
    name: 'refreshCookie',
    scheme: {
      type: 'apiKey',
      in: 'cookie',
      name: REFRESH_COOKIE,
      description:
        "A web session's refresh token, in an HttpOnly, Secure, SameSite=Strict cookie sent to /api/v1/auth only.",
    },
  },
  healthToken: {
    name: 'healthToken',
    scheme: { type: 'http', scheme: 'bearer', description: 'The operator token configured as HEALTH_TOKEN' },
  },
  metricsToken: {
    name: 'metricsToken',
    scheme: { type: 'http', scheme: 'bearer', description: 'The scrape token configured as METRICS_TOKEN' },
  },
  csrfToken: {
    name: 'csrfToken',
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'X-CSRF-Token',
      description:
        'With a web session, on every state-changing request: the `csrfToken` of the latest sign-in, refresh or ' +
        '`GET /api/v1/auth/csrf` answer (signed double submit, bound to the session). Bearer requests need none.',
    },
  },
  stripeSignature: {
    name: 'stripeSignature',
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'Stripe-Signature',
      description: "Stripe's signature of the raw body under STRIPE_WEBHOOK_SECRET (at most 300 s old)",
    },
  },
  plaidVerification: {
    name: 'plaidVerification',
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'Plaid-Verification',
      description:
        "Plaid's ES256 JWT: signed by the key Plaid serves for its `kid`, issued at most 300 s ago, its " +
        '`request_body_sha256` the SHA-256 of the raw body',
    },
  },
};
