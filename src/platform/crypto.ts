import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Field encryption for personal data at rest (income, debts, notes, free-text answers, bank tokens).
 *
 * Envelope: `<version>.<keyId>.<iv>.<ciphertext+tag>` (base64url parts), AES-256-GCM with a random 96-bit IV per
 * value.
 * The key id travels with the value, so every listed key can decrypt while only the current one encrypts: keys
 * rotate without downtime (`npm run keys:rotate` re-encrypts what remains under older keys).
 *
 * Each value is bound to its place by the GCM additional data: `context` (`<table>.<column>:<owner id>`, see
 * `fieldContext`) and, in a table with many rows per owner, the row's id. `v2` envelopes are bound to both
 * (`<context>#<row id>`), `v1` envelopes to the context alone: a `v2` value copied into another row, column or
 * account does not decrypt there, instead of silently showing one check-in's notes in another. `v1` values (written
 * before rows were bound, or in a column whose row is its owner's) still decrypt; `keys:rotate` rewrites those of
 * row-bound columns as `v2`. The version itself is authenticated: its AAD differs, so relabelling fails.
 */
const OWNER_BOUND = 'v1';
const ROW_BOUND = 'v2';
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
  const prefixOf = (rowBound: boolean) => `${rowBound ? ROW_BOUND : OWNER_BOUND}.${currentKeyId}.`;
  const additionalData = (context: string, rowId: string | undefined) =>
    Buffer.from(rowId === undefined ? context : `${context}#${rowId}`, 'utf8');

  return {
    currentKeyId,

    /** Bound to `context` and, when given, to the row `rowId` (a `v2` envelope); else to `context` only (`v1`). */
    encrypt(plaintext: string, context: string, rowId?: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(additionalData(context, rowId));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${prefixOf(rowId !== undefined)}${iv.toString('base64url')}.${body.toString('base64url')}`;
    },

    /**
     * `rowId` is the id of the row the value was read from: a `v2` envelope decrypts only with the row it was made
     * for, a `v1` one (owner-bound only) with any row of its context.
     */
    decrypt(envelope: string, context: string, rowId?: string): string {
      const parts = envelope.split('.');
      if (parts.length !== 4 || (parts[0] !== OWNER_BOUND && parts[0] !== ROW_BOUND)) {
        throw new FieldDecryptionError('malformed');
      }
      const [version, keyId, ivPart, bodyPart] = parts as [string, string, string, string];
      // A row-bound value read where no row is known cannot be checked: refused, never decrypted unbound.
      if (version === ROW_BOUND && rowId === undefined) throw new FieldDecryptionError('malformed', keyId);
      const key = keys.get(keyId);
      if (!key) throw new FieldDecryptionError('unknown-key', keyId);
      const iv = Buffer.from(ivPart, 'base64url');
      const body = Buffer.from(bodyPart, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new FieldDecryptionError('malformed', keyId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(additionalData(context, version === ROW_BOUND ? rowId : undefined));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        // GCM is a stream mode: update() gives the whole plaintext, final() only checks the tag (and yields nothing).
        const plaintext = decipher.update(body.subarray(0, body.length - TAG_BYTES));
        decipher.final();
        return plaintext.toString('utf8');
      } catch {
        throw new FieldDecryptionError('authentication-failed', keyId);
      }
    },

    /**
     * Whether a stored value is not in its current form: under another key than the current one, or owner-bound in a
     * row-bound column (what `keys:rotate` re-encrypts).
     */
    isStale(envelope: string, rowBound: boolean): boolean {
      return !envelope.startsWith(prefixOf(rowBound));
    },

    /** The SQL LIKE pattern of values already in their current form (see `isStale`). */
    // `_` is a LIKE wildcard and may appear in key ids.
    currentFormPattern(rowBound: boolean): string {
      return `${prefixOf(rowBound).replace(/[_%\\]/g, '\\$&')}%`;
    },

    /** Whole numbers (cents) as their decimal text; exact for every safe integer. */
    encryptInt(value: number, context: string, rowId?: string): string {
      return this.encrypt(String(value), context, rowId);
    },

    decryptInt(envelope: string, context: string, rowId?: string): number {
      const text = this.decrypt(envelope, context, rowId);
      const value = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new FieldDecryptionError('malformed');
      return value;
    },
  };
}
