import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
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
  trackConnections(server);
  return server;
}

/**
 * The open connections of each server, counted here rather than by Node: a worker's server is handed its
 * connections by the primary (`server.emit('connection')`), which Node's own count (`getConnections`) never sees.
 */
const openConnections = new WeakMap<Server, Set<Duplex>>();

function trackConnections(server: Server) {
  const open = new Set<Duplex>();
  openConnections.set(server, open);
  server.on('connection', (socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
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
 * How long a drain leaves a connection idle before closing it. A keep-alive connection idle when the drain begins
 * may carry the client's next request at any moment, and a connection just accepted may not have sent its first:
 * closed at once, either request would meet a reset. Given a moment, it is answered, with `Connection: close`.
 */
export const DRAIN_IDLE_GRACE_MS = 1_000;

/**
 * Stops accepting connections and waits for in-flight requests. Idle connections are closed once `idleGraceMs` (at
 * most half the deadline) has passed, then as soon as they become idle (Node closes idle sockets only once, at
 * `close()`; sockets that finish a request later would otherwise linger until keepAliveTimeout). After `timeoutMs`
 * every connection is cut.
 */
export function closeServer(server: Server, timeoutMs: number, idleGraceMs = 0): Promise<'drained' | 'timed_out'> {
  const open = openConnections.get(server) ?? new Set<Duplex>();
  return new Promise((resolve) => {
    // net's close, not http's: http's also closes the idle connections at once, before their grace.
    if (server.listening) net.Server.prototype.close.call(server);
    // After the event loop's next poll phase, not straight from the timer: a timer that fires late (the loop was
    // busy) could otherwise find idle a connection whose request has arrived but is not read yet.
    const closeIdle = () => setImmediate(() => server.closeIdleConnections());
    let sweep: NodeJS.Timeout | undefined;
    const grace = setTimeout(
      () => {
        closeIdle();
        sweep = setInterval(closeIdle, 100);
      },
      Math.min(idleGraceMs, timeoutMs / 2),
    );
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish('timed_out');
    }, timeoutMs);
    // Registered after trackConnections' own listener, so each runs once the socket has left `open`.
    const whenEmpty = () => open.size === 0 && finish('drained');
    const watch = (socket: Duplex) => socket.once('close', whenEmpty);
    for (const socket of open) watch(socket);
    server.on('connection', watch);
    let finished = false;
    const finish = (outcome: 'drained' | 'timed_out') => {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      clearInterval(sweep);
      clearTimeout(deadline);
      server.off('connection', watch);
      // Also ends Node's connection checks, which hold the server until then.
      server.close();
      resolve(outcome);
    };
    whenEmpty();
  });
}
