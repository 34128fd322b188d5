import type { Request } from 'express';

/** What services record about the request behind a change (audit rows, sessions), without knowing Express. */
export interface RequestContext {
  /** The client address, as resolved through TRUST_PROXY. */
  ip: string | undefined;
  requestId: string;
  userAgent: string | undefined;
}

export function requestContext(req: Request): RequestContext {
  return {
    ip: req.ip,
    requestId: String(req.id),
    userAgent: req.get('user-agent')?.slice(0, 500),
  };
}
