import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface AccessClaims {
  /** The user id. */
  sub: string;
  role: Role;
  /** The session: the refresh-token family this token was issued from; revoking it ends the token at once. */
  sid: string;
}

const Claims = z.object({ sub: z.uuid(), role: z.enum(ROLES), sid: z.uuid() });

export interface AccessTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

/** Short-lived HS256 JWTs. Verification pins the algorithm, issuer and audience, so `alg: none`, RS/HS confusion
 * and tokens minted for another service are all refused. */
export function createAccessTokens({ secret, issuer, audience, ttlSeconds }: AccessTokenOptions) {
  // A KeyObject made once: given a string, jsonwebtoken builds one on every call, which cost more than the rest of
  // a token verification (measured in bench/, docs/performance.md).
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    ttlSeconds,
    sign(claims: AccessClaims): string {
      return jwt.sign({ role: claims.role, sid: claims.sid }, key, {
        algorithm: 'HS256',
        subject: claims.sub,
        issuer,
        audience,
        expiresIn: ttlSeconds,
      });
    },
    /** The claims of a valid token, or undefined for anything else (bad signature, expired, wrong iss/aud, junk). */
    verify(token: string): AccessClaims | undefined {
      try {
        const payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer, audience, clockTolerance: 5 });
        const parsed = Claims.safeParse(payload);
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
