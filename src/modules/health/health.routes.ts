import { createHash, timingSafeEqual } from 'node:crypto';
import { type RequestHandler, Router } from 'express';
import { UnauthorizedError } from '../../http/errors.js';
import type { HealthService } from './health.service.js';

/** Probes are never cached by a proxy: a stale 200 would keep a dead pod in rotation. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

export function healthRoutes(svc: HealthService, options: { token: string | undefined }): Router {
  const r = Router();
  r.use(noStore);

  r.get('/', (_req, res) => {
    res.json(svc.summary());
  });

  r.get('/liveness', (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/readiness', async (_req, res) => {
    const { ready, body } = await svc.readiness();
    res.status(ready ? 200 : 503).json(body);
  });

  r.get('/startup', (_req, res) => {
    const started = svc.started();
    res.status(started ? 200 : 503).json({ status: started ? 'ok' : 'starting' });
  });

  r.get('/detailed', requireBearer(options.token), async (_req, res) => {
    res.json(await svc.detailed());
  });

  return r;
}

/** Constant-time comparison of a bearer token with the configured one (hashing first evens out the lengths). */
function requireBearer(expected: string | undefined): RequestHandler {
  const expectedDigest = expected ? digest(expected) : undefined;
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1];
    if (expectedDigest && presented && timingSafeEqual(digest(presented), expectedDigest)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="mingus-operations"');
    throw new UnauthorizedError('unauthorized', 'A valid operator token is required');
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();
