import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * The HTTP server of an Express app, whose requests and responses are created on the app's own prototypes
 * (`app.request`, `app.response`) instead of Node's (ADR 0013).
 *
 * Express gives every request and response its prototypes by `Object.setPrototypeOf` as they enter the app. In V8
 * that change is slow, and it makes each request's objects survive young-generation collections into the old
 * generation, which only the full collections, with the longest pauses, reclaim (expressjs/express#5998,
 * nodejs/node#37457). Created on the right prototypes, they need no change: Express finds each prototype already in
 * place, and setting the prototype an object already has changes nothing. The figures are in ADR 0013 and
 * docs/performance.md.
 */
export function createHttpServer(app: Express, timeouts: ServerTimeouts = SERVER_TIMEOUTS): Server {
  const Request = constructedOn(IncomingMessage, app.request);
  const Response = constructedOn<typeof ServerResponse>(ServerResponse, app.response);
  const options = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    // Node enforces both limits only when it checks its connections, every 30 s by default: a 15 s headers limit
    // held a slow-loris socket for up to 45 s. Checking at a tenth of the headers limit keeps each within 10%.
    connectionsCheckingInterval: Math.max(50, Math.floor(timeouts.headersMs / 10)),
  };
  const server =
    Request && Response
      ? createServer({ ...options, IncomingMessage: Request, ServerResponse: Response }, app)
      : createServer(options, app);
  // Longer than the load balancers' idle timeout (60 s on most), so they, not we, close idle connections:
  // otherwise a request can race our close and fail with a reset.
  server.keepAliveTimeout = timeouts.keepAliveMs;
  return server;
}

/** How long a client may take to send its headers and its whole request, and how long an idle connection stays. */
export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

/** A client gets 15 s to send its headers and 30 s for the whole request; slow-loris connections end there. */
export const SERVER_TIMEOUTS: ServerTimeouts = { headersMs: 15_000, requestMs: 30_000, keepAliveMs: 65_000 };

/**
 * A constructor that builds what `base` builds, with `prototype` (which inherits from `base.prototype`): it lets
 * `base` initialise the object `new` made from `prototype`. Node's `IncomingMessage` and `ServerResponse` are plain
 * functions that allow that. A class cannot (nor can a bound function stand in for one), so for anything whose
 * `prototype` is not a writable own property, as a plain function's is, this gives up (undefined) and the server is
 * Node's usual one: slower, never broken. Not `Reflect.construct(base, args, Constructed)`, which also works but
 * is slower than Express's own prototype change (ADR 0013).
 */
export function constructedOn<C extends new (...args: never[]) => object>(base: C, prototype: object): C | undefined {
  if (Object.getOwnPropertyDescriptor(base, 'prototype')?.writable !== true) return undefined;
  const initialise = base as unknown as (this: object, ...args: unknown[]) => void;
  function Constructed(this: object, ...args: unknown[]) {
    initialise.apply(this, args);
  }
  Constructed.prototype = prototype;
  return Constructed as unknown as C;
}

/** Starts listening; resolves once the port is bound (port 0 picks a free one: see `server.address()`). */
export function listen(app: Express, port: number, host: string, timeouts?: ServerTimeouts): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app, timeouts);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
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
