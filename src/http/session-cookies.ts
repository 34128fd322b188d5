import type { CookieOptions } from 'express';

/**
 * The web client's cookies. `__Host-` makes the browser refuse the cookie unless it is Secure, host-only and for
 * Path=/; the refresh cookie is sent to the auth routes only, so it takes `__Secure-` (its path rules `__Host-` out).
 */
export const ACCESS_COOKIE = '__Host-mingus-access';
export const REFRESH_COOKIE = '__Secure-mingus-refresh';
export const CSRF_COOKIE = '__Host-mingus-csrf';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';

/** Every cookie we set: never readable by scripts, never sent cross-site, never over plain http. */
export const BASE_COOKIE: CookieOptions = { httpOnly: true, secure: true, sameSite: 'strict' };
