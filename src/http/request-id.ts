import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { withContract } from './contract.js';

declare global {
  namespace Express {
    interface Request {
      /** Set first thing by `requestId`: on the access log line, every problem answer and the audit rows. */
      id: string;
    }
  }
}

export const REQUEST_ID_HEADER = 'X-Request-ID';
/** A caller's id is kept only if it is short and plain: it lands in logs and headers, so no injection room. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Sets `req.id` (from an acceptable incoming X-Request-ID, else a new UUID) and echoes it on the response. */
export const requestId: RequestHandler = withContract<RequestHandler>(
  (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    req.id = incoming && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, req.id);
    next();
  },
  { answerHeaders: [REQUEST_ID_HEADER] },
);
