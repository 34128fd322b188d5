import type { Request, RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from './errors.js';
import { ACCESS_COOKIE } from './session-cookies.js';

export type PrincipalRole = 'user' | 'admin';

/** Who is calling, as established by `authenticate`. */
export type Principal =
  | { kind: 'session'; userId: string; role: PrincipalRole; sessionId: string; via: 'header' | 'cookie' }
  | {
      kind: 'api-key';
      userId: string;
      role: PrincipalRole;
      apiKeyId: string;
      scopes: readonly string[];
      via: 'header';
    };

declare global {
  namespace Express {
    interface Request {
      /** Set by `authenticate` when the request carried a valid credential. */
      auth?: Principal;
      /** Set by `authenticate` when the request carried a credential that is not valid (expired, revoked, forged). */
      authRejected?: boolean;
    }
  }
}

/** Resolves a presented credential to its principal, or undefined when it is not (or no longer) valid. */
export interface CredentialResolver {
  session(accessToken: string, via: 'header' | 'cookie'): Promise<Principal | undefined>;
  apiKey(key: string): Promise<Principal | undefined>;
}

export const API_KEY_PREFIX = 'mk_';

/**
 * Establishes `req.auth` from `Authorization: Bearer …` (an access token or an `mk_` API key) or, failing that, the
 * web session cookie; never from the query string, where tokens would end up in logs and browser history. An
 * absent credential leaves the request anonymous; an invalid one marks it rejected, so that a public route (login)
 * still works with a stale cookie while `requireAuth` answers 401.
 */
export function authenticate(resolve: CredentialResolver): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header)?.[1];
      const principal = !token
        ? undefined
        : token.startsWith(API_KEY_PREFIX)
          ? await resolve.apiKey(token)
          : await resolve.session(token, 'header');
      if (principal) req.auth = principal;
      else req.authRejected = true;
      return next();
    }
    const cookie = (req.cookies as Record<string, unknown> | undefined)?.[ACCESS_COOKIE];
    if (typeof cookie === 'string' && cookie !== '') {
      const principal = await resolve.session(cookie, 'cookie');
      if (principal) req.auth = principal;
      else req.authRejected = true;
    }
    next();
  };
}

export interface RequireAuthOptions {
  /** Whether a personal API key may call the route (read-only methods only, whatever this says). Default true. */
  apiKeys?: boolean;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * 401 unless `authenticate` found a valid credential. API keys are read-only: a write with one is 403, and routes
 * that manage credentials or administer the service refuse keys altogether (`apiKeys: false`).
 */
export function requireAuth(options: RequireAuthOptions = {}): RequestHandler {
  const allowKeys = options.apiKeys ?? true;
  return (req, res, next) => {
    const principal = req.auth;
    if (!principal) {
      res.setHeader('WWW-Authenticate', req.authRejected ? 'Bearer error="invalid_token"' : 'Bearer');
      throw new UnauthorizedError(
        req.authRejected ? 'invalid-token' : 'authentication-required',
        req.authRejected
          ? 'The access token or API key is invalid, expired or revoked'
          : 'This route needs an access token or API key',
      );
    }
    if (principal.kind === 'api-key') {
      if (!allowKeys) throw new ForbiddenError('api-key-not-allowed', 'API keys cannot be used on this route');
      if (!READ_METHODS.has(req.method)) throw new ForbiddenError('api-key-read-only', 'API keys are read-only');
    }
    next();
  };
}

/** 403 unless the authenticated principal has one of `roles`; mount after `requireAuth`. */
export function requireRole(...roles: PrincipalRole[]): RequestHandler {
  const allowed = new Set(roles);
  return (req, _res, next) => {
    if (!req.auth || !allowed.has(req.auth.role)) {
      throw new ForbiddenError('forbidden', 'Your role does not allow this');
    }
    next();
  };
}

/** The principal of a request that passed `requireAuth`. */
export function principalOf(req: Request): Principal {
  if (!req.auth) throw new Error('principalOf(): the route is not behind requireAuth');
  return req.auth;
}
