import type { z } from 'zod';
import type { ProblemCode } from './problems.js';

export type HttpMethod = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** What a handler's part of the contract may depend on: the operation it serves. */
export interface OperationShape {
  method: HttpMethod;
}

/** Request headers the API reads; src/openapi/headers.ts describes each once. */
export type RequestHeaderName =
  | 'Idempotency-Key'
  | 'X-CSRF-Token'
  | 'X-Client'
  | 'Stripe-Signature'
  | 'Plaid-Verification';

/** Response headers the API sets; src/openapi/headers.ts describes each once. */
export type ResponseHeaderName =
  | 'RateLimit'
  | 'RateLimit-Policy'
  | 'Retry-After'
  | 'Idempotent-Replayed'
  | 'Location'
  | 'X-Request-ID'
  | 'Set-Cookie'
  | 'Access-Control-Allow-Origin'
  | 'Content-Disposition'
  | 'WWW-Authenticate';

/** The ways a caller proves who it is; src/openapi/security.ts describes each as a security scheme. */
export type CredentialName =
  | 'bearer'
  | 'cookie'
  | 'refreshCookie'
  | 'healthToken'
  | 'metricsToken'
  | 'stripeSignature'
  | 'plaidVerification'
  | 'csrfToken';

/** One way to be let through: a credential, the roles it must carry, and what must come with it. */
export interface Credential {
  name: CredentialName;
  roles?: readonly string[];
  /** Credentials needed together with this one (a cookie session's writes need the CSRF token). */
  with?: readonly CredentialName[];
}

export interface RequestSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

/** What one handler adds to the contract of every operation whose chain it is in. */
export interface ContractPart {
  /** Problems it may answer with. */
  problems?: readonly ProblemCode[];
  /** Request headers it reads. */
  headers?: readonly RequestHeaderName[];
  /** Headers it puts on every answer given after it ran (whatever the status). */
  answerHeaders?: readonly ResponseHeaderName[];
  /** Headers it puts on successful answers. */
  successHeaders?: readonly ResponseHeaderName[];
  /** The credentials it accepts, any one of them: a handler that lets no one through without one. */
  accepts?: readonly Credential[];
  /** Roles it requires of every credential accepted on the way. */
  requiresRoles?: readonly string[];
  /** A credential it requires together with another, whenever that other one is what the caller used. */
  requiresWith?: { credential: CredentialName; also: CredentialName };
  /** The request parts it validates. */
  request?: RequestSchemas;
}

export type Contract = ContractPart | ((operation: OperationShape) => ContractPart);

const CONTRACT = Symbol('mingus.contract');

/**
 * Labels a middleware with what it adds to an operation's answers, so that the OpenAPI document derives them from
 * the chain each route really passes through (src/openapi/document.ts) instead of each route restating them.
 */
export function withContract<H extends object>(handler: H, contract: Contract): H {
  Object.defineProperty(handler, CONTRACT, { value: contract, enumerable: false });
  return handler;
}

/** The contract a handler was labelled with, evaluated for one operation; nothing for unlabelled handlers. */
export function contractOf(handler: unknown, operation: OperationShape): ContractPart | undefined {
  if (typeof handler !== 'function') return undefined;
  const contract = (handler as { [CONTRACT]?: Contract })[CONTRACT];
  return typeof contract === 'function' ? contract(operation) : contract;
}
