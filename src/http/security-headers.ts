import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The API serves JSON only, so its documents may load nothing and be framed by no one. `/docs` (Swagger UI) is
 * the one HTML page; it gets its own, slightly wider, policy where it is mounted (src/openapi/docs.routes.ts).
 */
export function securityHeaders(options: { production: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    // HSTS only where TLS is guaranteed (behind the production ingress); on plain-HTTP development it would stick
    // in browsers for localhost.
    strictTransportSecurity: options.production ? { maxAge: 63_072_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
}
