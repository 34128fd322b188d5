import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../platform/logger.js';

/**
 * JSON access log, one line per request, with the request id on it and on every line logged through `req.log`.
 * Serializers keep to method, URL and status: headers are reduced to a safe few, and bodies are never logged.
 */
export function accessLog(logger: Logger): RequestHandler {
  return pinoHttp({
    // The serializers below keep only named, harmless fields (no headers but the user agent, no body, no query), so
    // this logger drops the wildcard redaction that every other line pays for: it was most of the access log's
    // cost per request (docs/performance.md). Code that logs anything else uses the application logger, never
    // `req.log` (problem.ts logs failures there, with the request id).
    logger: logger.child({}, { redact: { paths: [] } }),
    genReqId: (req) => req.id,
    customAttributeKeys: { reqId: 'reqId' },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req) => ({
        method: req.method,
        // The path only: a query string can carry what must not be stored (a token sent where it should not be).
        url: req.url?.split('?', 1)[0],
        userAgent: req.headers?.['user-agent'],
        remoteAddress: req.remoteAddress,
      }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
    quietReqLogger: true,
  });
}
