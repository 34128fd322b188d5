import cors from 'cors';
import type { RequestHandler } from 'express';
import { withContract } from './contract.js';

/**
 * CORS by allow-list: an origin not in CORS_ORIGINS gets no Access-Control-Allow-Origin, so browsers refuse to
 * hand it the answer. Credentials are allowed because the web app authenticates with cookies.
 */
export function corsPolicy(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  const policy = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-CSRF-Token', 'X-Client', 'X-Request-ID'],
    // Every response header of the contract a web client may need to read.
    exposedHeaders: ['X-Request-ID', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Location', 'Idempotent-Replayed'],
    maxAge: 600,
  });
  // The answer differs by Origin even when the origin is refused (cors adds Vary only when it allows one), so a
  // shared cache must never hand a refused answer to an allowed origin or the other way round.
  const middleware: RequestHandler = (req, res, next) => {
    res.vary('Origin');
    policy(req, res, next);
  };
  return withContract(middleware, { answerHeaders: ['Access-Control-Allow-Origin'] });
}
