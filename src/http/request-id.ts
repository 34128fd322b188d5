import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { withContract } from './contract.js';

declare global {
  namespace Express {
    interface Request {
      /**
       * Set first thing by `requestId`, always made by this server: on every log line, every problem answer, the
       * `X-Request-ID` response header and the audit rows, so no client can choose what an audit entry is tied to.
       */
      id: string;
      /** The caller's own `X-Request-ID`, cut and stripped to safe characters; logged beside `id`, never instead. */
      clientRequestId: string | undefined;
    }
  }
}

export const REQUEST_ID_HEADER = 'X-Request-ID';
/** The longest client id kept: it only has to correlate with the caller's own logs. */
const CLIENT_ID_MAX_CHARS = 64;
/** Everything but letters, digits and `.`, `_`, `-`, `:`: no room for log, header or markup injection. */
const UNSAFE_CHARS = /[^A-Za-z0-9._:-]/g;

/**
 * Sets `req.id` to a new UUID and echoes it as `X-Request-ID`. A caller's own `X-Request-ID` is kept, bounded and
 * sanitised, as `req.clientRequestId` for the access log: a correlation hint, never an identity that audit rows or
 * answers would carry (the client could otherwise reuse one id for many requests, or forge another's).
 */
export const requestId: RequestHandler = withContract<RequestHandler>(
  (req, res, next) => {
    req.id = randomUUID();
    req.clientRequestId = clientRequestIdOf(req.get(REQUEST_ID_HEADER));
    res.setHeader(REQUEST_ID_HEADER, req.id);
    next();
  },
  { answerHeaders: [REQUEST_ID_HEADER] },
);

function clientRequestIdOf(incoming: string | undefined): string | undefined {
  if (!incoming) return undefined;
  // Cut before stripping as well, so a 16 kB header costs no more than a short one.
  const safe = incoming
    .slice(0, 4 * CLIENT_ID_MAX_CHARS)
    .replace(UNSAFE_CHARS, '')
    .slice(0, CLIENT_ID_MAX_CHARS);
  return safe === '' ? undefined : safe;
}
