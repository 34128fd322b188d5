import { describe, expect, it } from 'vitest';
import {
  centsFromPlaidAmount,
  decimalToCents,
  InexactAmountError,
  userSignedCents,
} from '../../../src/modules/banking/banking.money.js';

describe('Plaid amounts to cents', () => {
  it('when an amount has no exact binary form (0.1, 0.29, 1.005), converts it from its decimal digits exactly', () => {
    // The float way is wrong for each: 0.29 * 100 = 28.999999999999996, Math.round(1.005 * 100) = 100.
    expect(0.29 * 100).not.toBe(29);
    expect(centsFromPlaidAmount(0.1)).toBe(10n);
    expect(centsFromPlaidAmount(0.29)).toBe(29n);
    expect(centsFromPlaidAmount(1.005)).toBe(101n);
    expect(centsFromPlaidAmount(19.99)).toBe(1999n);
    expect(centsFromPlaidAmount(0)).toBe(0n);
    expect(centsFromPlaidAmount(-0)).toBe(0n);
  });

  it('when an amount has a third decimal, rounds half away from zero', () => {
    expect(centsFromPlaidAmount(-1234.565)).toBe(-123457n);
    expect(centsFromPlaidAmount(1234.565)).toBe(123457n);
    expect(centsFromPlaidAmount(1234.564)).toBe(123456n);
    expect(centsFromPlaidAmount(-1234.564)).toBe(-123456n);
    expect(centsFromPlaidAmount(0.005)).toBe(1n);
    expect(centsFromPlaidAmount(-0.005)).toBe(-1n);
    expect(centsFromPlaidAmount(0.0049)).toBe(0n);
    expect(decimalToCents('2.4999999')).toBe(250n);
  });

  it('when an amount is large but within 15 significant digits, converts it exactly', () => {
    expect(centsFromPlaidAmount(9_999_999_999_999.99)).toBe(999_999_999_999_999n);
    expect(centsFromPlaidAmount(-9_999_999_999_999.99)).toBe(-999_999_999_999_999n);
    expect(centsFromPlaidAmount(1e13)).toBe(1_000_000_000_000_000n);
    expect(decimalToCents('90071992547409.91')).toBe(9_007_199_254_740_991n);
  });

  it('when an amount may have been rounded by JSON.parse, or exceeds safe cents, refuses it', () => {
    // 17 significant digits: the double is not the decimal that was sent.
    expect(() => centsFromPlaidAmount(Number('12345678901234567'))).toThrow(InexactAmountError);
    expect(() => centsFromPlaidAmount(0.1 + 0.2)).toThrow(InexactAmountError);
    expect(() => centsFromPlaidAmount(1e21)).toThrow(InexactAmountError);
    expect(() => centsFromPlaidAmount(Number.NaN)).toThrow(InexactAmountError);
    expect(() => centsFromPlaidAmount(Number.POSITIVE_INFINITY)).toThrow(InexactAmountError);
    expect(() => decimalToCents('90071992547409.92')).toThrow(InexactAmountError);
  });

  it('when given decimal text in exponent form or malformed, converts or refuses it', () => {
    expect(centsFromPlaidAmount(1e-7)).toBe(0n);
    expect(decimalToCents('1.5e2')).toBe(15000n);
    expect(decimalToCents('-2.5E-1')).toBe(-25n);
    expect(decimalToCents('+3')).toBe(300n);
    for (const bad of ['', '-', '.', '1.2.3', '12a', '1e999', '0x10']) {
      expect(() => decimalToCents(bad), bad).toThrow(InexactAmountError);
    }
  });

  it("when Plaid says money left the account (positive), the user's sign is negative, and the other way round", () => {
    expect(userSignedCents(12.34)).toBe(-1234n);
    expect(userSignedCents(-2500)).toBe(250000n);
    expect(userSignedCents(-1234.565)).toBe(123457n);
    expect(Object.is(Number(userSignedCents(0)), 0)).toBe(true);
  });
});
