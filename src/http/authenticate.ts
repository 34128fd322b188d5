import type { Request, RequestHandler } from 'express';
import { withContract } from './contract.js';
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
      /**
       * A correctly signed, unexpired access token whose session is still being checked (between `identify` and
       * `confirm`). Grants nothing: only the API rate limiter reads it, to count the request against that user only
       * if the session has not ended (rate-limits.ts), while the session check runs.
       */
      claimedSession?: ClaimedSession;
    }
  }
}

/** What the API rate limiter may know of a request whose session check is running: see `Request#claimedSession`. */
export interface ClaimedSession {
  userId: string;
  sessionId: string;
  /** The session check's answer; false when it failed (the request is then refused by `confirm`). */
  live: Promise<boolean>;
}

/** A signature-valid access token: its principal, once `live` confirms its session has not ended. */
export interface SessionClaim {
  principal: Principal;
  live: Promise<boolean>;
}

/** Resolves a presented credential to its principal, or undefined when it is not (or no longer) valid. */
export interface CredentialResolver {
  /** Checks the token itself at once; the session check (a Redis read) runs in `live`. */
  session(accessToken: string, via: 'header' | 'cookie'): SessionClaim | undefined;
  apiKey(key: string): Promise<Principal | undefined>;
}

type Pending = { ok: true; live: boolean } | { ok: false; err: unknown };
const pendingSessions = new WeakMap<Request, { principal: Principal; outcome: Promise<Pending> }>();

export const API_KEY_PREFIX = 'mk_';

/**
 * Establishes `req.auth` from `Authorization: Bearer …` (an access token or an `mk_` API key) or, failing that, the
 * web session cookie; never from the query string, where tokens would end up in logs and browser history. An
 * absent credential leaves the request anonymous; an invalid one marks it rejected, so that a public route (login)
 * still works with a stale cookie while `requireAuth` answers 401.
 */
export function authenticate(resolve: CredentialResolver) {
  const claimSession = (req: Request, token: string, via: 'header' | 'cookie') => {
    const claim = resolve.session(token, via);
    if (!claim) {
      req.authRejected = true;
      return;
    }
    const outcome = claim.live.then(
      (live): Pending => ({ ok: true, live }),
      (err: unknown): Pending => ({ ok: false, err }), // kept for `confirm`: never an unhandled rejection
    );
    const { principal } = claim;
    if (principal.kind === 'session') {
      req.claimedSession = {
        userId: principal.userId,
        sessionId: principal.sessionId,
        live: outcome.then((o) => o.ok && o.live),
      };
    }
    pendingSessions.set(req, { principal, outcome });
  };

  /**
   * Reads the credential and starts its checks without waiting for the session's: the API rate limiter, mounted
   * next, then sends its Redis command while the session read is in flight, so the two share one round trip
   * instead of queueing one behind the other. Nothing is granted until `confirm`.
   */
  const identify: RequestHandler = async (req, _res, next) => {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header)?.[1];
      if (!token) req.authRejected = true;
      else if (!token.startsWith(API_KEY_PREFIX)) claimSession(req, token, 'header');
      else {
        const principal = await resolve.apiKey(token);
        if (principal) req.auth = principal;
        else req.authRejected = true;
      }
      return next();
    }
    const cookie = (req.cookies as Record<string, unknown> | undefined)?.[ACCESS_COOKIE];
    if (typeof cookie === 'string' && cookie !== '') claimSession(req, cookie, 'cookie');
    next();
  };

  /** Sets `req.auth` once the session check answers; a revoked session leaves the request rejected (401 later). */
  const confirm: RequestHandler = async (req, _res, next) => {
    const pending = pendingSessions.get(req);
    if (pending) {
      pendingSessions.delete(req);
      req.claimedSession = undefined;
      const outcome = await pending.outcome;
      if (!outcome.ok) throw outcome.err;
      if (outcome.live) req.auth = pending.principal;
      else req.authRejected = true;
    }
    next();
  };

  // Every API operation may find the database unreachable: this step reads API keys from it, and the routes after
  // it read and write their rows; and a text no field check caught may reach it (`invalid-text`, problem.ts).
  withContract(identify, { problems: ['database-unavailable', 'invalid-text'] });
  return { identify, confirm, both: [identify, confirm] as RequestHandler[] };
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
  const middleware: RequestHandler = (req, res, next) => {
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
  return withContract(middleware, ({ method }) => ({
    accepts: [{ name: 'bearer' }, { name: 'cookie' }],
    problems: [
      'authentication-required',
      'invalid-token',
      ...(!allowKeys ? (['api-key-not-allowed'] as const) : []),
      ...(allowKeys && !READ_METHODS.has(method.toUpperCase()) ? (['api-key-read-only'] as const) : []),
    ],
  }));
}

/** 403 unless the authenticated principal has one of `roles`; mount after `requireAuth`. */
export function requireRole(...roles: PrincipalRole[]): RequestHandler {
  const allowed = new Set(roles);
  const middleware: RequestHandler = (req, _res, next) => {
    if (!req.auth || !allowed.has(req.auth.role)) {
      throw new ForbiddenError('forbidden', 'Your role does not allow this');
    }
    next();
  };
  return withContract(middleware, { requiresRoles: roles, problems: ['forbidden'] });
}

/** The principal of a request that passed `requireAuth`. */
export function principalOf(req: Request): Principal {
  if (!req.auth) throw new Error('principalOf(): the route is not behind requireAuth');
  return req.auth;
}
