import { createHmac } from 'node:crypto';

/**
 * What the service keeps of an email where it must not keep the address: in audit entries about sign-ins to emails
 * without an account, and in the Redis keys of the login lockout. HMAC-SHA256 under EMAIL_HASH_KEY,
 * a secret of its own (not derived from another: a leak of one does not open the other), so a dictionary of
 * addresses cannot be hashed and matched against these values without the key, as a plain SHA-256 could. The
 * address is trimmed and lower-cased first, as accounts store it, so every caller names one email by one value.
 * 128 bits, in hex: collisions between addresses are out of reach, and it fits the audit log's target column.
 */
export type EmailHash = (email: string) => string;

export function createEmailHash(key: string): EmailHash {
  const secret = Buffer.from(key, 'utf8');
  return (email) => createHmac('sha256', secret).update(email.trim().toLowerCase(), 'utf8').digest('hex').slice(0, 32);
}
