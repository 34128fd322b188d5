import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * At most `maxInFlight` requests run the application at once; the others wait, first come first served, and a
 * waiting request whose client has gone is dropped from the line.
 *
 * Why: under overload (a thousand connections on two cores) every request that runs at once makes each turn of the
 * event loop longer, and Node accepts one new connection per turn (libuv 1.45+). With turns of 100 ms the server
 * accepted about ten connections a second while hundreds sat in the kernel's queue until their clients gave up, and
 * the long turns made PostgreSQL-pool and Redis deadlines expire. With a cap the turns stay short: connections are
 * accepted at once, requests wait in this line instead (their wait shows in the access log and the request
 * metrics), and the service answers everyone within seconds (docs/performance.md, `c1000`). At ordinary load the
 * line is empty and the cap costs nothing.
 */
export function admission(maxInFlight: number, onQueueLength?: (waiting: number) => void): RequestHandler {
  let inFlight = 0;
  const waiting: Array<{ req: Request; res: Response; next: NextFunction }> = [];

  const release = () => {
    inFlight -= 1;
    admitNext();
  };
  const admit = (res: Response, next: NextFunction) => {
    inFlight += 1;
    res.once('close', release);
    next();
  };
  const admitNext = () => {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const entry = waiting.shift() as (typeof waiting)[number];
      // The client left while waiting: nobody would read the answer.
      if (entry.req.destroyed || entry.res.closed) continue;
      admit(entry.res, entry.next);
    }
    onQueueLength?.(waiting.length);
  };

  return (req, res, next) => {
    if (inFlight < maxInFlight) return admit(res, next);
    waiting.push({ req, res, next });
    onQueueLength?.(waiting.length);
  };
}
