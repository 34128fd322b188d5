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

/**
 * The claims a token must carry. `exp` is required here because jsonwebtoken checks it only when it is present: a
 * token minted without one (a leaked key, a test tool, another service sharing it) would never expire.
 */
const Claims = z.object({ sub: z.uuid(), role: z.enum(ROLES), sid: z.uuid(), exp: z.number().int() });

export interface AccessTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** How many verified tokens to remember (see `verify`); default 10,000. */
  verifiedCacheSize?: number;
}

/** Seconds of clock skew between instances that a token's expiry tolerates. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Our tokens are about 300 characters; anything much longer is verified every time rather than remembered. */
const MAX_REMEMBERED_LENGTH = 1024;

export type AccessTokens = ReturnType<typeof createAccessTokens>;

/** Short-lived HS256 JWTs. Verification pins the algorithm, issuer and audience, so `alg: none`, RS/HS confusion
 * and tokens minted for another service are all refused. */
export function createAccessTokens(options: AccessTokenOptions) {
  const { secret, issuer, audience, ttlSeconds, verifiedCacheSize = 10_000 } = options;
  if (!Number.isSafeInteger(verifiedCacheSize) || verifiedCacheSize < 0) {
    throw new Error(`verifiedCacheSize must be a whole number ≥ 0, not ${verifiedCacheSize}`);
  }
  // A KeyObject made once: given a string, jsonwebtoken first tries it as a public key on every call, and that failed
  // parse costs more than the rest of the verification (auth0/node-jsonwebtoken#1046; figures in docs/performance.md).
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  /**
   * Tokens this instance has verified, with their claims and the second they stop being valid. A client sends the
   * same token with every request for its fifteen minutes, and verifying it again (decoding, the HMAC, the claims)
   * is a visible share of an authenticated request's main-thread time (docs/performance.md). A hit is the very string
   * that passed `jwt.verify` under this key and these options, so it would pass again until it expires, which is
   * checked on every hit. Only tokens that passed are kept: an anonymous caller's junk and forgeries are verified,
   * and refused, every time. The map holds at most `verifiedCacheSize` tokens of our own size (longer strings are
   * verified every time), each copied so that it does not keep the header it was cut from alive; when it is full,
   * the token it has known longest goes first, which costs that token one verification more, never a wrong answer.
   * The tokens held here are bearer credentials, but so is the secret that signs them, which this process also
   * holds. Revocation is not this map's business: the session check after it runs on every request.
   */
  const verified = new Map<string, { claims: Readonly<AccessClaims>; validUntil: number }>();

  function remember(token: string, claims: AccessClaims, exp: number) {
    if (verifiedCacheSize === 0 || token.length > MAX_REMEMBERED_LENGTH) return;
    if (verified.size >= verifiedCacheSize) verified.delete(verified.keys().next().value as string);
    // A flat copy: the token may be a slice of a whole Cookie header, which V8 would otherwise keep alive with it.
    const own = Buffer.from(token, 'latin1').toString('latin1');
    verified.set(own, { claims: Object.freeze(claims), validUntil: exp + CLOCK_TOLERANCE_SECONDS });
  }

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
    verify(token: string): Readonly<AccessClaims> | undefined {
      const known = verified.get(token);
      if (known !== undefined) {
        // jsonwebtoken's own rule: valid while the clock, in whole seconds, is before exp + tolerance.
        if (Math.floor(Date.now() / 1000) < known.validUntil) return known.claims;
        verified.delete(token);
      }
      try {
        const payload = jwt.verify(token, key, {
          algorithms: ['HS256'],
          issuer,
          audience,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        });
        const parsed = Claims.safeParse(payload);
        if (!parsed.success) return undefined;
        const { exp, ...claims } = parsed.data;
        remember(token, claims, exp);
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}
