import type { RequestHandler } from 'express';
import type { Lifecycle } from '../platform/lifecycle.js';

/**
 * Once the process drains (SIGTERM), every answer says `Connection: close`: a client then opens a new connection
 * (to another pod) for its next request instead of writing it on a keep-alive socket this server is about to close,
 * where it would meet a reset.
 */
export function closeConnectionsWhenDraining(lifecycle: Pick<Lifecycle, 'isShuttingDown'>): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.isShuttingDown()) res.setHeader('Connection', 'close');
    next();
  };
}
