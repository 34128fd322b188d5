import type { z } from 'zod';
import type { Credential, RequestHeaderName, ResponseHeaderName } from '../http/contract.js';
import type { ProblemCode } from '../http/problems.js';
import type { TagName } from './tags.js';

/** An answer the route itself gives (not a problem): its description, body and headers. */
export interface Reply {
  description: string;
  /** The body's schema; none for an empty answer (204). */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  headers?: readonly ResponseHeaderName[];
}

/**
 * How one operation is documented: what its route alone knows. Everything the middleware of its chain adds
 * (security, validated request parts, headers, the problems of parsing, authentication, CSRF, rate limits,
 * idempotency) is derived from that chain when the document is built (src/openapi/document.ts).
 */
export interface Operation {
  /** Unique and stable camelCase: generated clients name their functions after it. */
  operationId: string;
  tag: TagName;
  summary: string;
  description?: string;
  /** Request headers the handler itself reads. */
  headers?: readonly RequestHeaderName[];
  /** The answers of the handler itself, by status: successes, and other bodies such as a failing probe's. */
  replies: Readonly<Record<number, Reply>>;
  /** The problems the operation's own rules answer with (the status comes from the catalogue). */
  problems?: readonly ProblemCode[];
  /**
   * Credentials the handler checks itself (a webhook's signature, the refresh cookie), and whether a caller
   * without any of them is served too (`anonymous`: refresh with the token in the body instead of the cookie).
   */
  checks?: { accepts: readonly Credential[]; anonymous: boolean };
}

/** Routes that are not API operations (the documentation page's scripts and styles): listed in no document. */
export const UNDOCUMENTED = Symbol('undocumented');
export type RouteDescription = Operation | typeof UNDOCUMENTED;

export function operation(description: Operation): Operation {
  return description;
}

/** A JSON answer. */
export function json(description: string, schema: z.ZodType, headers?: readonly ResponseHeaderName[]): Reply {
  return { description, schema, ...(headers ? { headers } : {}) };
}
