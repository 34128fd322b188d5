import type { RequestHandler, Response } from 'express';
import type { Lifecycle } from '../platform/lifecycle.js';

/**
 * Once the process drains (SIGTERM), every answer says `Connection: close`: a client then opens a new connection
 * (to another pod) for its next request instead of writing it on a keep-alive socket this server is about to close,
 * where it would meet a reset. That includes the answers to requests that arrived before the drain and are still
 * being prepared: a connection left idle during the drain may be closed under the client's next request.
 */
export function closeConnectionsWhenDraining(
  lifecycle: Pick<Lifecycle, 'isShuttingDown' | 'onShutdown'>,
): RequestHandler {
  const inFlight = new Set<Response>();
  lifecycle.onShutdown(() => {
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    inFlight.clear();
  });
  return (_req, res, next) => {
    if (lifecycle.isShuttingDown()) res.setHeader('Connection', 'close');
    else {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    }
    next();
  };
}
