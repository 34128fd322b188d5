import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';

/**
 * bcrypt reads at most 72 bytes, so two passwords sharing their first 72 bytes would be interchangeable, and a
 * 128-character password of multi-byte letters would mostly be ignored. Every password is therefore first reduced
 * to HMAC-SHA256 under this fixed, public key, base64-encoded (44 ASCII bytes, no NUL that bcrypt would stop at),
 * and that is what bcrypt hashes. The key is not a secret: it only separates our pre-hash from a plain SHA-256, so a
 * leaked unsalted SHA-256 list elsewhere cannot be tested against our bcrypt hashes ("password shucking").
 */
const PREHASH_KEY = 'mingus/password-prehash/v1';

/**
 * Unicode normalisation (NFKC, as NIST SP 800-63B asks) first: the same password typed on two keyboards may arrive
 * as different code points.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

function prehash(password: string): string {
  return createHmac('sha256', PREHASH_KEY).update(normalizePassword(password), 'utf8').digest('base64');
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

export function createPasswordHasher(cost: number) {
  // A real hash at the same cost, made once: comparing against it takes as long as checking a real account.
  let decoy: Promise<string> | undefined;
  return {
    hash(password: string): Promise<string> {
      return bcrypt.hash(prehash(password), cost);
    },
    verify(password: string, hash: string): Promise<boolean> {
      return bcrypt.compare(prehash(password), hash);
    },
    /**
     * Spends the time of one verification and answers false, for logins naming no account: an unknown email must
     * cost what a wrong password costs, or response times would tell which emails have accounts.
     */
    async verifyNothing(password: string): Promise<false> {
      decoy ??= bcrypt.hash(prehash('decoy password for unknown accounts'), cost);
      await bcrypt.compare(prehash(password), await decoy);
      return false;
    },
  };
}
