import { createHmac, hkdfSync } from 'node:crypto';

/**
 * The only trace an erased account leaves: HMAC-SHA256 of its id under a key derived (HKDF) from JWT_SECRET. Support
 * can answer "was account <id> erased, and when?" only when they already know the id, and nobody can list which
 * accounts were erased or link the row to anything else. The key is derived, not JWT_SECRET itself, so the pseudonym
 * reveals nothing usable against tokens. Rotating JWT_SECRET changes the pseudonyms of later erasures only.
 */
export type ErasurePseudonym = (userId: string) => string;

const INFO = 'mingus/privacy/erasure-pseudonym/v1';

export function createErasurePseudonym(jwtSecret: string): ErasurePseudonym {
  const key = Buffer.from(hkdfSync('sha256', jwtSecret, Buffer.alloc(0), INFO, 32));
  return (userId) => createHmac('sha256', key).update(userId.toLowerCase(), 'utf8').digest('hex');
}
