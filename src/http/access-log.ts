import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../platform/logger.js';

const STARTED_AT = Symbol('mingus.accessLogStartedAt');
const PEER = Symbol('mingus.accessLogPeer');

type LoggedResponse = ServerResponse & { req: Request; [STARTED_AT]?: number; [PEER]?: string | undefined };

/**
 * JSON access log: one line per request when its response closes, with the request id, method, path, client
 * address (as TRUST_PROXY resolves it, the one the rate limits count), status and time taken. Nothing else of the request: no header but the user agent, no query string (a token sent where it should
 * not be would be stored), no body. A server error is `request errored` (problem.ts logs its cause, with the same
 * request id); a response that closes before it was finished (the client went away) is `request aborted`, with the
 * status only if one was sent.
 *
 * Written here rather than with pino-http (ADR 0011, which gives the figures): pino-http builds two child loggers
 * per request, serialising the whole request into one of them, for a `req.log` nothing here uses. Code that logs
 * anything else uses the application logger, with the request id (problem.ts).
 */
export function accessLog(logger: Logger): RequestHandler {
  // The fields below are named and harmless, so this logger skips the wildcard redaction every other line pays for.
  const log = logger.child({}, { redact: { paths: [] } });

  // One listener shared by every response (it reads the response as `this`): nothing allocated per request for it.
  function onClose(this: LoggedResponse) {
    const { req, statusCode } = this;
    const finished = this.writableFinished;
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 || !finished ? 'warn' : 'info';
    log[level](
      {
        reqId: req.id,
        ...(req.clientRequestId === undefined ? {} : { clientReqId: req.clientRequestId }),
        req: {
          method: req.method,
          url: req.originalUrl.split('?', 1)[0],
          userAgent: req.headers['user-agent'],
          remoteAddress: this[PEER],
        },
        // An aborted request may have had no answer at all: its default 200 would be a lie.
        ...(this.headersSent ? { res: { statusCode } } : {}),
        responseTime: Date.now() - (this[STARTED_AT] ?? Date.now()),
      },
      !finished ? 'request aborted' : statusCode >= 500 ? 'request errored' : 'request completed',
    );
  }

  return (req, res, next) => {
    (res as LoggedResponse)[STARTED_AT] = Date.now();
    // The client as the rate limits count it: `req.ip`, which follows TRUST_PROXY (the trusted ingress's
    // X-Forwarded-For entry, else the socket's peer). Read now: once a client has gone, its socket no longer knows
    // the address.
    (res as LoggedResponse)[PEER] = req.ip;
    res.once('close', onClose);
    next();
  };
}
