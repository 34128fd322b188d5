/**
 * Every problem this API answers with: its `type` (after `PROBLEM_BASE`), its status and when it happens. The one
 * catalogue the errors thrown, the OpenAPI document and docs/errors.md come from: `AppError` accepts only these
 * codes, each error class only the codes of its status, and docs/errors.md's table is checked against this list.
 * `retryAfter` marks the problems answered with a `Retry-After` header, `challenge` those with `WWW-Authenticate`.
 */
export const PROBLEMS = {
  'malformed-json': {
    status: 400,
    when: 'the body is not JSON, or is a bare value rather than an object or array',
  },
  'forbidden-key': {
    status: 400,
    when: 'the body holds a key named `__proto__`, `constructor` or `prototype`',
  },
  'invalid-parameter': {
    status: 400,
    when: 'a path parameter is malformed (e.g. not a UUID)',
  },
  'bad-request': {
    status: 400,
    when: 'the body could not be read (aborted, wrong length), or a library refused the request with a 4xx status (its message is not shown; the status may be another 4xx)',
  },
  'invalid-idempotency-key': {
    status: 400,
    when: 'the `Idempotency-Key` header is empty, longer than 255 characters or not visible ASCII',
  },
  'invalid-signature': {
    status: 400,
    when: 'Stripe webhook: the `Stripe-Signature` header is missing, does not match the raw body under `STRIPE_WEBHOOK_SECRET`, or is older than 300 s. Plaid webhook: the `Plaid-Verification` JWT is missing, not ES256, signed by a key Plaid does not know or has expired, issued more than 300 s ago, or does not hash the raw body. Nothing was applied',
  },
  'invalid-cursor': {
    status: 400,
    when: 'a `cursor` that this API did not issue (tampered, truncated or made up)',
  },
  unauthorized: {
    status: 401,
    when: 'missing or wrong operator token on `/health/detailed` or `/metrics` (with a `WWW-Authenticate` challenge)',
    challenge: true,
  },
  'authentication-required': {
    status: 401,
    when: 'an `/api/v1` route that needs a session or API key got none (`WWW-Authenticate: Bearer`)',
    challenge: true,
  },
  'invalid-token': {
    status: 401,
    when: 'the access token or API key is forged, expired, for another issuer/audience, or its session was ended (`WWW-Authenticate: Bearer error="invalid_token"`)',
    challenge: true,
  },
  'invalid-credentials': {
    status: 401,
    when: 'login: wrong email or password — one answer for both',
  },
  'invalid-refresh-token': {
    status: 401,
    when: 'unknown, expired, revoked or already spent refresh token (a spent one also ends its whole session)',
  },
  'account-suspended': {
    status: 403,
    when: 'login with the right password to a suspended account',
  },
  'email-unverified': {
    status: 403,
    when: "creating an API key or starting a checkout before the account's email address is verified (`POST /auth/email/verify`); nothing was done",
  },
  forbidden: {
    status: 403,
    when: 'your role does not allow the route (admin routes)',
  },
  'invalid-password': {
    status: 403,
    when: 'erasing the account (`DELETE /users/me`) or creating an API key: the password is wrong; nothing was done',
  },
  'api-key-read-only': {
    status: 403,
    when: 'a personal API key used on a method other than GET/HEAD',
  },
  'api-key-not-allowed': {
    status: 403,
    when: 'a personal API key used on a route that needs a session (API keys, admin, sign-out, password, data export, account erasure)',
  },
  'plan-required': {
    status: 403,
    when: 'the route needs a plan feature you do not have now (no plan, a plan without it, canceled/unpaid, or past_due beyond the grace period), or an 11th active reminder without `unlimited-reminders`; `detail` names the cheapest plan that has it (docs/billing.md)',
  },
  'csrf-token-invalid': {
    status: 403,
    when: "a cookie-authenticated state change without the session's `X-CSRF-Token`",
  },
  'not-found': {
    status: 404,
    when: 'no route, or no resource of yours, at this address; or a write that refers to a record deleted meanwhile (an account erased while one of its requests ran)',
  },
  'method-not-allowed': {
    status: 405,
    when: 'a method this path does not serve (`Allow` lists the ones it does); `TRACE` and `TRACK` are never served',
  },
  'idempotency-in-progress': {
    status: 409,
    when: 'the first request with this `Idempotency-Key` is still running; retry after `Retry-After`',
    retryAfter: true,
  },
  'email-taken': {
    status: 409,
    when: 'register: an account with this email exists',
  },
  'api-key-limit-reached': {
    status: 409,
    when: 'creating a personal API key while 10 are live; revoke one first',
  },
  'already-subscribed': {
    status: 409,
    when: 'checkout while a subscription is live (not canceled or expired): change or cancel it in the billing portal',
  },
  'erasure-interrupted': {
    status: 409,
    when: '`DELETE /users/me` while a checkout created a Stripe customer for the account: nothing was erased; retry',
  },
  'no-billing-account': {
    status: 409,
    when: 'billing portal before any checkout: there is no Stripe customer yet',
  },
  'bank-link-exists': {
    status: 409,
    when: 'linking an institution you already linked (also when two links race): `detail` names the existing item; repair it with a Link token in update mode',
  },
  'bank-item-revoked': {
    status: 409,
    when: 'a Link token in update mode or a sync for a bank link whose access was revoked at the bank: unlink it and link again',
  },
  'cannot-change-self': {
    status: 409,
    when: 'an admin changing their own role or status',
  },
  'checkin-exists': {
    status: 409,
    when: 'a check-in (created or moved by PATCH) on a date that already has one of yours, also when two requests race',
  },
  'job-not-failed': {
    status: 409,
    when: 'admin retry of a job that is not in the failed state (waiting, running, delayed or completed); only a failed job can be retried',
  },
  'payload-too-large': {
    status: 413,
    when: 'the body is over 100 kB (512 kB for the Stripe webhook)',
  },
  'unsupported-media-type': {
    status: 415,
    when: 'a body that is not UTF-8 `application/json`',
  },
  'idempotency-key-reused': {
    status: 422,
    when: 'an `Idempotency-Key` already used (within 24 h) with another method, path or body',
  },
  'checkin-date-in-future': {
    status: 422,
    when: "a check-in `checkinDate` after today in your profile's time zone (UTC when none); `errors` names `body.checkinDate`",
  },
  'invalid-public-token': {
    status: 422,
    when: 'linking a bank: Plaid does not know the `publicToken`, or it was already exchanged or has expired (30 minutes)',
  },
  'weak-password': {
    status: 422,
    when: 'a new password that is too short or long, common, or too easy to guess; `errors` says why',
  },
  'invalid-current-password': {
    status: 422,
    when: 'password change: `currentPassword` is wrong',
  },
  'invalid-account-token': {
    status: 422,
    when: 'password reset or email verification: the emailed token is unknown, for another purpose, already used or expired — one answer for all; nothing was changed',
  },
  'validation-failed': {
    status: 422,
    when: 'the body or query has the wrong shape or values; `errors` lists each field',
  },
  'invalid-text': {
    status: 422,
    when: 'a text holds a character the database cannot store (such as NUL) and no field check caught it first; nothing was stored',
  },
  'rate-limited': {
    status: 429,
    when: 'a rate limit was exceeded; `Retry-After` and the `RateLimit` header say when to retry',
    retryAfter: true,
  },
  'login-locked': {
    status: 429,
    when: 'too many consecutive failed logins for this email (whether or not it has an account); `Retry-After`',
    retryAfter: true,
  },
  'billing-upstream-failed': {
    status: 502,
    when: 'Stripe refused or could not be reached while creating a customer, a Checkout or a portal session, or while ending the Stripe customer of an account being erased; nothing was stored or erased, retry shortly',
  },
  'banking-upstream-failed': {
    status: 502,
    when: 'Plaid refused or could not be reached while creating a Link token, linking, or unlinking a bank (or while revoking the bank links of an account being erased); nothing was stored or deleted, retry shortly. From the Plaid webhook: its verification key could not be fetched, so Plaid retries',
  },
  'database-unavailable': {
    status: 503,
    when: 'PostgreSQL cannot be reached (down, restarting, refusing connections); nothing was changed; retry after `Retry-After`',
    retryAfter: true,
  },
  'auth-unavailable': {
    status: 503,
    when: 'Redis (rate limits, lockouts) is failing: credential routes fail closed; retry later',
  },
  'billing-not-configured': {
    status: 503,
    when: '`/subscriptions/*`, the Stripe webhook, or erasing an account that has a Stripe customer, on a server without `STRIPE_SECRET_KEY`; the rest of the API works',
  },
  'banking-not-configured': {
    status: 503,
    when: '`/banking/*` or the Plaid webhook on a server without Plaid settings (`PLAID_CLIENT_ID`, …), or erasing an account that has bank links there; the rest of the API works',
  },
  'session-store-unavailable': {
    status: 503,
    when: 'the end of a session (sign-out, password change, a replayed refresh token, an admin change) committed but could not be propagated to Redis; retry it',
  },
  'jobs-unavailable': {
    status: 503,
    when: 'admin failed-jobs routes or a bank sync request on a server without `REDIS_URL` (development), or while Redis cannot be reached; the rest of the API works; `POST /auth/email/verify/resend` answers it too when it cannot enqueue the mail (a password-reset request still answers 202 and logs the failure)',
  },
} as const satisfies Record<string, { status: number; when: string; retryAfter?: true; challenge?: true }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** The codes whose status is `S`: what an error class of that status may carry. */
export type ProblemCodeOf<S extends number> = {
  [C in ProblemCode]: (typeof PROBLEMS)[C]['status'] extends S ? C : never;
}[ProblemCode];
