import { z } from 'zod';

/**
 * The zod schemas of the fields every module shares (ids, instants, dates, integers, money), with the bounds the
 * data model gives them, so that both validation and the OpenAPI document state the real limits.
 */

export const INT32_MAX = 2_147_483_647;
const INT32_MIN = -2_147_483_648;

/**
 * A whole number from `min` to `max` that fits a PostgreSQL `integer`. The bounds are z.int() checks with the format
 * as metadata: zod-to-openapi 9 documents z.int32() as a plain, unbounded `number`.
 */
export function int32(min: number, max: number, error?: string) {
  if (!(INT32_MIN <= min && min <= max && max <= INT32_MAX)) throw new RangeError(`int32(${min}, ${max})`);
  return bounded(min, max, error).meta({ format: 'int32' });
}

/**
 * A whole number from `min` to `max` beyond `integer` (a PostgreSQL `bigint`, or cents kept encrypted). A JSON number
 * is exact only up to 2^53, so that is as far as `min` and `max` may go.
 */
export function int64(min: number, max: number, error?: string) {
  if (!(Number.MIN_SAFE_INTEGER <= min && min <= max && max <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`int64(${min}, ${max})`);
  }
  return bounded(min, max, error).meta({ format: 'int64' });
}

/** `error`, when given, is the one message for every way a value can miss (not a number, a fraction, out of range). */
function bounded(min: number, max: number, error: string | undefined) {
  const params = error === undefined ? undefined : { error };
  return z.int(params).min(min, params).max(max, params);
}

/**
 * A whole number in a query string, where every value arrives as text: decimal digits become the number, anything
 * else is left for `schema` to refuse, so the document shows an integer with its bounds and a client sends one.
 */
export function queryInteger<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value),
    schema,
  );
}

/**
 * What a text field refuses: the C0 control characters (U+0000–U+001F) and DEL. NUL cannot be stored by PostgreSQL
 * at all (a 500 before this schema existed); the others have no place in a name or title and are what terminal, log
 * and CSV injection is made of. A multi-line field (free-text notes) keeps tab, line feed and carriage return.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: naming the control characters is the point of it
const SINGLE_LINE = /^[^\x00-\x1f\x7f]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, less tab, LF and CR
const MULTI_LINE = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;

export interface TextOptions {
  max: number;
  min?: number;
  /** Trim white space at both ends first (then `min` counts what is left). */
  trim?: boolean;
  /** Free text over several lines: tab, LF and CR are kept; every other control character is still refused. */
  multiline?: boolean;
}

/**
 * The one schema of every free-text field a client sends (names, titles, notes, answers, search text): bounded, and
 * refusing control characters with a 422 that names the field. A test walks the OpenAPI documents so that no string
 * a request carries escapes it, a format (id, date, email, enum, a pattern of its own) or `opaque()`.
 */
export function text(options: TextOptions) {
  let schema = z.string();
  if (options.trim) schema = schema.trim();
  if (options.min !== undefined) schema = schema.min(options.min);
  return schema.max(options.max).regex(options.multiline ? MULTI_LINE : SINGLE_LINE, {
    message: options.multiline
      ? 'must not contain control characters other than tab and line breaks'
      : 'must not contain control characters (line breaks included)',
  });
}

/**
 * A secret a client presents (a password, a refresh token) that is only hashed or compared, never stored, shown or
 * logged as text: any character is allowed (refusing some would lock out a password chosen before), only the length
 * is bounded. Marked `x-opaque` in the document, which the control-character test accepts in place of `text()`.
 */
export function opaque(options: { max: number; min?: number }) {
  const schema = z.string().max(options.max);
  return (options.min === undefined ? schema : schema.min(options.min)).meta({ 'x-opaque': true } as never);
}

/**
 * Row ids: PostgreSQL `uuid`, always 36 characters as text. Here and below, a failed format check aborts, so that a
 * malformed value is one problem rather than also a "too long" one.
 */
export const Id = z.uuid({ abort: true }).max(36);

/** An instant as the API writes it (`Date#toISOString()`, UTC, milliseconds): 24 characters up to year 9999. */
export const Instant = z.iso.datetime({ abort: true }).max(24).meta({ example: '2026-11-25T09:30:00.000Z' });

/** The longest instant a client may send: an offset and nanoseconds (what any clock gives), 35 characters. */
const INSTANT_INPUT_MAX_CHARS = 35;

/** An instant a client sends: any offset, up to nanoseconds; stored to the millisecond (`timestamptz(3)`). */
export const InstantInput = z.iso
  .datetime({ offset: true, abort: true })
  .max(INSTANT_INPUT_MAX_CHARS)
  .meta({ example: '2026-11-25T09:30:00.000Z' });

/** A calendar date `YYYY-MM-DD` (PostgreSQL `date`); modules add the range they accept. */
export const CalendarDate = z.iso
  .date({ message: 'must be a date as YYYY-MM-DD', abort: true })
  .max(10)
  .meta({ example: '2026-11-24' });

/** RFC 5321 caps a forward path at 256 octets, so 254 characters for the address; `users.email` is varchar(254). */
export const EMAIL_MAX_CHARS = 254;

/** An address as stored (validated and lower-cased when it was registered). */
export const Email = z.email().max(EMAIL_MAX_CHARS).meta({ example: 'ann@example.com' });

/** Cents between the field's own limits: int32 while they fit an `integer`, int64 beyond (savings, debt). */
export function cents(min: number, max: number, error?: string) {
  return min >= INT32_MIN && max <= INT32_MAX ? int32(min, max, error) : int64(min, max, error);
}

/** An ISO 4217 code (`usd`, `EUR`); upper or lower case is the vendor's, kept as sent. */
export const CurrencyCode = z.string().length(3).meta({ example: 'usd' });

/**
 * The bound of a list that has none of its own, such as a section of the GDPR export, which holds a user's whole
 * history: the most items a JavaScript array can hold. Said rather than left out, so that no list is unbounded by
 * omission.
 */
export const JS_ARRAY_MAX_LENGTH = 2 ** 32 - 1;

/** A client address as stored: `ip` columns are varchar(64), room for any IPv6 text form. */
export const IpAddress = z.string().max(64).meta({ example: '203.0.113.7' });

/**
 * A request field the server fills in when it is left out. Not `.default()`: zod-to-openapi writes that as the
 * schema's `default`, and openapi-typescript makes a component's property with a `default` required in the types it
 * generates, so a client would be made to send what it may leave out. The description states the default instead.
 */
export function defaulted<T extends z.ZodType>(schema: T, value: z.output<T>) {
  return schema
    .optional()
    .transform((given) => (given === undefined ? value : given))
    .meta({ description: `Left out: ${JSON.stringify(value)}` });
}
