import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, FieldDecryptionError, fieldContext } from '../../src/platform/crypto.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const onlyA = createFieldCipher({ keys: new Map([['a', keyA]]), currentKeyId: 'a' });
const aThenB = createFieldCipher({
  keys: new Map([
    ['a', keyA],
    ['b', keyB],
  ]),
  currentKeyId: 'b',
});
const ctx = fieldContext('user_health_checkins', 'notes_enc', '7c2e9a4b-1d3f-4e5a-8b6c-0d1e2f3a4b5c');

/** The error a failed decryption throws, to assert its reason. */
function decryptionError(work: () => unknown): FieldDecryptionError {
  try {
    work();
  } catch (err) {
    if (err instanceof FieldDecryptionError) return err;
    throw err;
  }
  throw new Error('decryption did not fail');
}

/** The envelope with one bit of its ciphertext part flipped. */
function flipBit(envelope: string): string {
  const parts = envelope.split('.');
  const body = Buffer.from(parts[3] as string, 'base64url');
  body[0] = (body[0] as number) ^ 1;
  parts[3] = body.toString('base64url');
  return parts.join('.');
}

describe('field cipher', () => {
  it('when a value is encrypted, decrypts back to it, unicode and empty strings included', () => {
    for (const text of ['Paid off the card 🎉 — ça va', '', 'x'.repeat(2_000)]) {
      const envelope = onlyA.encrypt(text, ctx);
      expect(envelope).not.toContain(text || '\u0000');
      expect(onlyA.decrypt(envelope, ctx)).toBe(text);
    }
  });

  it('when whole numbers are encrypted, decrypts them exactly up to the largest safe integer', () => {
    for (const n of [0, 550_000, -12, Number.MAX_SAFE_INTEGER])
      expect(onlyA.decryptInt(onlyA.encryptInt(n, ctx), ctx)).toBe(n);
  });

  it('when the same value is encrypted twice, the envelopes differ (a random IV each time)', () => {
    const first = onlyA.encrypt('550000', ctx);
    const second = onlyA.encrypt('550000', ctx);
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(Buffer.from(first.split('.')[2] as string, 'base64url')).toHaveLength(12);
  });

  it('when encrypting, names the current key in a v1 envelope', () => {
    expect(aThenB.encrypt('x', ctx)).toMatch(/^v1\.b\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  });

  it('when one bit of the ciphertext is flipped, refuses it as authentication-failed', () => {
    const error = decryptionError(() => onlyA.decrypt(flipBit(onlyA.encrypt('550000', ctx)), ctx));
    expect(error.reason).toBe('authentication-failed');
    expect(error.keyId).toBe('a');
  });

  it('when the IV or the key id is swapped, refuses it rather than answering other data', () => {
    const [v, , iv, body] = onlyA.encrypt('550000', ctx).split('.');
    const other = onlyA.encrypt('550000', ctx).split('.')[2];
    expect(decryptionError(() => onlyA.decrypt([v, 'a', other, body].join('.'), ctx)).reason).toBe(
      'authentication-failed',
    );
    expect(decryptionError(() => aThenB.decrypt([v, 'b', iv, body].join('.'), ctx)).reason).toBe(
      'authentication-failed',
    );
  });

  it('when the value is decrypted in another context (row, column or owner), refuses it', () => {
    const envelope = onlyA.encrypt('550000', fieldContext('user_profiles', 'monthly_income_enc', 'user-1'));
    for (const context of [
      fieldContext('user_profiles', 'monthly_income_enc', 'user-2'),
      fieldContext('user_profiles', 'current_debt_enc', 'user-1'),
      fieldContext('plaid_items', 'monthly_income_enc', 'user-1'),
    ]) {
      expect(decryptionError(() => onlyA.decrypt(envelope, context)).reason).toBe('authentication-failed');
    }
  });

  it('when the envelope names a key that is not configured, refuses it as unknown-key', () => {
    const error = decryptionError(() => onlyA.decrypt(aThenB.encrypt('550000', ctx), ctx));
    expect(error.reason).toBe('unknown-key');
    expect(error.keyId).toBe('b');
    expect(error.message).not.toContain('550000');
  });

  it('when the envelope is malformed, refuses it as malformed', () => {
    const good = onlyA.encrypt('x', ctx);
    const [, , iv] = good.split('.');
    for (const bad of ['', 'plaintext', 'v2.a.x.y', good.replace(/^v1/, 'v0'), `${good}.extra`, `v1.a.${iv}.AAAA`]) {
      expect(decryptionError(() => onlyA.decrypt(bad, ctx)).reason, bad).toBe('malformed');
    }
    expect(decryptionError(() => onlyA.decryptInt(onlyA.encrypt('12.5', ctx), ctx)).reason).toBe('malformed');
    expect(decryptionError(() => onlyA.decryptInt(onlyA.encrypt('9007199254740993', ctx), ctx)).reason).toBe(
      'malformed',
    );
  });

  it('when the current key changes from A to B, values under A still decrypt and are reported stale', () => {
    const underA = onlyA.encrypt('Paid off the card', ctx);
    expect(aThenB.decrypt(underA, ctx)).toBe('Paid off the card');
    expect(aThenB.isStale(underA, false)).toBe(true);
    expect(aThenB.isStale(aThenB.encrypt('x', ctx), false)).toBe(false);
    expect(onlyA.isStale(underA, false)).toBe(false);
  });

  it('when key ids contain LIKE wildcards, the current-form pattern escapes them', () => {
    const cipher = createFieldCipher({ keys: new Map([['k_1', keyA]]), currentKeyId: 'k_1' });
    expect(cipher.currentFormPattern(false)).toBe('v1.k\\_1.%');
    expect(cipher.currentFormPattern(true)).toBe('v2.k\\_1.%');
  });

  describe('bound to a row', () => {
    const [rowA, rowB] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];

    it('when a value made for one row is read in another row of the same owner, or with no row, refuses it', () => {
      const sealed = onlyA.encrypt('slept badly', ctx, rowA);
      expect(sealed.startsWith('v2.a.')).toBe(true);
      expect(onlyA.decrypt(sealed, ctx, rowA)).toBe('slept badly');
      expect(decryptionError(() => onlyA.decrypt(sealed, ctx, rowB)).reason).toBe('authentication-failed');
      expect(decryptionError(() => onlyA.decrypt(sealed, ctx)).reason).toBe('malformed');
    });

    it('when a value is in the older owner-bound form, it still decrypts in any row of its owner, and is stale where rows are bound', () => {
      const older = onlyA.encrypt('slept badly', ctx);
      expect(onlyA.decrypt(older, ctx, rowA)).toBe('slept badly');
      expect(onlyA.decrypt(older, ctx, rowB)).toBe('slept badly');
      expect(onlyA.isStale(older, true)).toBe(true);
      expect(onlyA.isStale(onlyA.encrypt('x', ctx, rowA), true)).toBe(false);
    });

    it('when an envelope is relabelled from one form to the other, refuses it', () => {
      const rowBound = onlyA.encrypt('550000', ctx, rowA);
      const ownerBound = onlyA.encrypt('550000', ctx);
      expect(decryptionError(() => onlyA.decrypt(rowBound.replace(/^v2/, 'v1'), ctx, rowA)).reason).toBe(
        'authentication-failed',
      );
      expect(decryptionError(() => onlyA.decrypt(ownerBound.replace(/^v1/, 'v2'), ctx, rowA)).reason).toBe(
        'authentication-failed',
      );
    });
  });

  it('when the current key is missing or not 32 bytes, refuses to build the cipher', () => {
    expect(() => createFieldCipher({ keys: new Map([['a', keyA]]), currentKeyId: 'b' })).toThrow(/missing or not 32/);
    expect(() => createFieldCipher({ keys: new Map([['a', randomBytes(16)]]), currentKeyId: 'a' })).toThrow(
      /missing or not 32/,
    );
  });
});
