import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Field encryption for personal data at rest (income, debts, notes, free-text answers, bank tokens).
 *
 * Envelope: `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url parts), AES-256-GCM with a random 96-bit IV per value.
 * The key id travels with the value, so every listed key can decrypt while only the current one encrypts: keys
 * rotate without downtime (`npm run keys:rotate` re-encrypts what remains under older keys).
 *
 * Each value is bound to its place by the GCM additional data (`context`, e.g. `user_profiles.monthly_income:<user
 * id>`): a ciphertext copied into another row or column by someone with write access to the database does not
 * decrypt there, instead of silently showing one user's income on another's profile.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A value that does not decrypt: tampered, under an unknown key, or moved. Always a 500, never wrong data. */
export class FieldDecryptionError extends Error {
  constructor(
    readonly reason: 'malformed' | 'unknown-key' | 'authentication-failed',
    readonly keyId?: string,
  ) {
    super(`Encrypted field could not be decrypted (${reason}${keyId ? `, key ${keyId}` : ''})`);
    this.name = 'FieldDecryptionError';
  }
}

export interface FieldKeys {
  /** Every key that may decrypt, by id (32 bytes each). */
  keys: ReadonlyMap<string, Buffer>;
  /** The id of the key that encrypts. */
  currentKeyId: string;
}

export type FieldCipher = ReturnType<typeof createFieldCipher>;

/** The place a value belongs to: `<table>.<column>:<owner id>`. */
export function fieldContext(table: string, column: string, ownerId: string): string {
  return `${table}.${column}:${ownerId}`;
}

export function createFieldCipher({ keys, currentKeyId }: FieldKeys) {
  const current = keys.get(currentKeyId);
  if (current?.length !== 32) throw new Error(`Field encryption key ${currentKeyId} is missing or not 32 bytes`);
  const currentPrefix = `${VERSION}.${currentKeyId}.`;

  return {
    currentKeyId,

    encrypt(plaintext: string, context: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${currentPrefix}${iv.toString('base64url')}.${body.toString('base64url')}`;
    },

    decrypt(envelope: string, context: string): string {
      const parts = envelope.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) throw new FieldDecryptionError('malformed');
      const [, keyId, ivPart, bodyPart] = parts as [string, string, string, string];
      const key = keys.get(keyId);
      if (!key) throw new FieldDecryptionError('unknown-key', keyId);
      const iv = Buffer.from(ivPart, 'base64url');
      const body = Buffer.from(bodyPart, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new FieldDecryptionError('malformed', keyId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        // GCM is a stream mode: update() gives the whole plaintext, final() only checks the tag (and yields nothing).
        const plaintext = decipher.update(body.subarray(0, body.length - TAG_BYTES));
        decipher.final();
        return plaintext.toString('utf8');
      } catch {
        throw new FieldDecryptionError('authentication-failed', keyId);
      }
    },

    /** Whether a stored value is under another key than the current one (what `keys:rotate` re-encrypts). */
    isStale(envelope: string): boolean {
      return !envelope.startsWith(currentPrefix);
    },

    /** The SQL LIKE pattern of values already under the current key. */
    // `_` is a LIKE wildcard and may appear in key ids.
    currentKeyPattern: `${currentPrefix.replace(/[_%\\]/g, '\\$&')}%`,

    /** Whole numbers (cents) as their decimal text; exact for every safe integer. */
    encryptInt(value: number, context: string): string {
      return this.encrypt(String(value), context);
    },

    decryptInt(envelope: string, context: string): number {
      const text = this.decrypt(envelope, context);
      const value = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new FieldDecryptionError('malformed');
      return value;
    },
  };
}
