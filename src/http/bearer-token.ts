import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { type CredentialName, withContract } from './contract.js';
import { UnauthorizedError } from './errors.js';

/**
 * Lets a request through only with `Authorization: Bearer <expected>`, for operator endpoints (/health/detailed,
 * /metrics). Both sides are hashed before the constant-time comparison, so neither the token's content nor its
 * length leaks through timing. With no `expected` token, every request is refused. `credential` names the token in
 * the OpenAPI documents.
 */
export function requireBearer(
  expected: string | undefined,
  credential: Extract<CredentialName, 'healthToken' | 'metricsToken'>,
): RequestHandler {
  const expectedDigest = expected ? digest(expected) : undefined;
  const middleware: RequestHandler = (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1];
    if (expectedDigest && presented && timingSafeEqual(digest(presented), expectedDigest)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="mingus-operations"');
    throw new UnauthorizedError('unauthorized', 'A valid operator token is required');
  };
  return withContract(middleware, { accepts: [{ name: credential }], problems: ['unauthorized'] });
}

const digest = (value: string) => createHash('sha256').update(value).digest();
