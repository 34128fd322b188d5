import cors from 'cors';
import type { RequestHandler } from 'express';

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
    exposedHeaders: ['X-Request-ID', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Location'],
    maxAge: 600,
  });
  // The answer differs by Origin even when the origin is refused (cors adds Vary only when it allows one), so a
  // shared cache must never hand a refused answer to an allowed origin or the other way round.
  return (req, res, next) => {
    res.vary('Origin');
    policy(req, res, next);
  };
}
