/**
 * Plaid's amounts are JSON numbers of currency units (`12.34`); the service stores and answers integer hundredths
 * (`…Cents`). The conversion works on the decimal text, never by multiplying a float: `0.29 * 100` is
 * 28.999999999999996 in IEEE 754. ADR 0019 gives the rules; in short:
 *
 * * A third decimal (Plaid sends one for some currencies and some adjusted amounts) is rounded half away from
 *   zero, the rule of commercial rounding: 1234.565 → 123457, -1234.565 → -123457. The rounding is on the decimal
 *   digits themselves, so it is exact.
 * * A JSON number reaches us through `JSON.parse` (the SDK's HTTP client), that is as a double. `String(double)` is
 *   the shortest text that reads back as the same double, and for any decimal of at most 15 significant digits that
 *   text is the decimal Plaid wrote. So every amount up to 9,999,999,999,999.99 converts exactly; one with more
 *   significant digits may already have been rounded by the parse and is refused rather than stored wrong.
 * * Results are bounded by `Number.MAX_SAFE_INTEGER` cents, so every stored amount is also exact as a JSON number.
 */

/** Significant digits a double holds for any decimal: DBL_DIG. */
const EXACT_DIGITS = 15;
const MAX_EXPONENT = 30;
const MAX_CENTS = BigInt(Number.MAX_SAFE_INTEGER);

/** An amount the service cannot store exactly: not a number, too precise to have survived JSON.parse, or too large. */
export class InexactAmountError extends Error {
  constructor(readonly amount: string) {
    super(`amount ${amount.slice(0, 40)} cannot be converted to cents exactly`);
    this.name = 'InexactAmountError';
  }
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal written in text (`"12.34"`, `"-0.1"`, `"1e-7"`) as hundredths, rounded half away from zero past the
 * second decimal. Pure integer arithmetic on the digits.
 */
export function decimalToCents(text: string): bigint {
  const m = DECIMAL.exec(text.trim());
  const whole = m?.[2] ?? '';
  const fraction = m?.[3] ?? '';
  if (!m || whole.length + fraction.length === 0) throw new InexactAmountError(text);
  const exponent = Number(m[4] ?? '0');
  if (Math.abs(exponent) > MAX_EXPONENT) throw new InexactAmountError(text);
  const digits = BigInt(`${whole}${fraction}` || '0');
  // value = digits × 10^(exponent − fraction.length); cents = value × 100.
  const shift = exponent - fraction.length + 2;
  let magnitude: bigint;
  if (shift >= 0) {
    magnitude = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    const quotient = digits / divisor;
    magnitude = 2n * (digits % divisor) >= divisor ? quotient + 1n : quotient;
  }
  if (magnitude > MAX_CENTS) throw new InexactAmountError(text);
  return m[1] === '-' ? -magnitude : magnitude;
}

/** How many significant digits a number's shortest decimal text has. */
function significantDigits(text: string): number {
  const mantissa = text
    .replace(/^[+-]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

/** One of Plaid's JSON amounts (as the SDK parsed it) in cents, with Plaid's sign; exact or refused. */
export function centsFromPlaidAmount(amount: number): bigint {
  if (!Number.isFinite(amount)) throw new InexactAmountError(String(amount));
  const text = String(amount);
  if (significantDigits(text) > EXACT_DIGITS) throw new InexactAmountError(text);
  return decimalToCents(text);
}

/** A balance that may be absent (`null` when the institution does not report it). */
export function centsOrNull(amount: number | null | undefined): bigint | null {
  return amount === null || amount === undefined ? null : centsFromPlaidAmount(amount);
}

/**
 * Plaid's transaction sign is the account's: positive for money leaving it. The API's is the user's (DESIGN §4):
 * negative for money leaving the account, positive for money coming in.
 */
export function userSignedCents(plaidAmount: number): bigint {
  const cents = centsFromPlaidAmount(plaidAmount);
  return cents === 0n ? 0n : -cents;
}
