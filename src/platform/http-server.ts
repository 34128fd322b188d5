import type { Server } from 'node:http';
import type { Express } from 'express';

/** Starts listening; resolves once the port is bound (port 0 picks a free one: see `server.address()`). */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    // Longer than the load balancers' idle timeout (60 s on most), so they, not we, close idle connections:
    // otherwise a request can race our close and fail with a reset.
    server.keepAliveTimeout = 65_000;
    // A client gets 15 s to send its headers and 30 s for the whole request; slow-loris connections end there.
    server.headersTimeout = 15_000;
    server.requestTimeout = 30_000;
  });
}

/**
 * Stops accepting connections and waits for in-flight requests, closing keep-alive sockets as soon as they are
 * idle (Node closes idle sockets only once, at `close()`; sockets that finish a request later would otherwise
 * linger until keepAliveTimeout). After `timeoutMs` every connection is cut.
 */
export function closeServer(server: Server, timeoutMs: number): Promise<'drained' | 'timed_out'> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish('timed_out');
    }, timeoutMs);
    const finish = (outcome: 'drained' | 'timed_out') => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve(outcome);
    };
    server.close(() => finish('drained'));
    server.closeIdleConnections();
  });
}
