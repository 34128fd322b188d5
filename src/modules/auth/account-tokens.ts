import { createHash, randomBytes } from 'node:crypto';
import type { AccountTokenPurpose } from './account-tokens.repo.js';

/** How long a mailed token is good for, from its making. */
export const ACCOUNT_TOKEN_TTL_MINUTES: Record<AccountTokenPurpose, number> = {
  password_reset: 60,
  email_verification: 24 * 60,
};

/** 256 random bits, base64url: 43 characters. */
export const ACCOUNT_TOKEN_LENGTH = 43;

export function newAccountToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the database keeps of a token. A plain SHA-256, not bcrypt or an HMAC: the token is 256 random bits, so there
 * is no dictionary to try and no brute force within reach; a slow or keyed hash would add nothing but cost, while
 * the digest still makes a stolen copy of the table useless for signing in. Hex, for the CHAR(64) column.
 */
export function hashAccountToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
