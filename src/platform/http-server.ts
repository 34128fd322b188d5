import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * The HTTP server of an Express app, whose requests and responses are created on the app's own prototypes
 * (`app.request`, `app.response`) instead of Node's.
 *
 * Express gives every request and response its prototypes by `Object.setPrototypeOf` as they enter the app. In V8
 * that change makes each request's objects (its routers' closures, headers, cookies…) survive young-generation
 * collections and move to the old generation, where only the full collections, with the longest pauses, reclaim
 * them (expressjs/express#5998, nodejs/node#37457). Measured on a bare Express 5 route at 1,000 requests a second:
 * 3 to 5 MB survived each scavenge and the pauses took 4.5 to 9.5 ms; with the prototypes given at construction, as
 * here, a few kB survived and the pauses took under a millisecond (docs/performance.md). Express then finds the
 * prototype already in place, and `setPrototypeOf` with the same prototype changes nothing.
 */
export function createHttpServer(app: Express): Server {
  return createServer(
    {
      IncomingMessage: constructedOn(IncomingMessage, app.request),
      ServerResponse: constructedOn<typeof ServerResponse>(ServerResponse, app.response),
    },
    app,
  );
}

/** A constructor that builds what `base` builds, with `prototype` (which inherits from `base.prototype`). */
function constructedOn<C extends new (...args: never[]) => object>(base: C, prototype: object): C {
  function Constructed(...args: unknown[]) {
    return Reflect.construct(base, args, Constructed);
  }
  Constructed.prototype = prototype;
  return Constructed as unknown as C;
}

/** Starts listening; resolves once the port is bound (port 0 picks a free one: see `server.address()`). */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
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
