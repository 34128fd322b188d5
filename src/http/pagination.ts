import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { int32, queryInteger } from './field-schemas.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * A cursor this API issues is at most 214 characters (a sort key of at most 100 and an id, signed); the bound leaves
 * room without letting a client send kilobytes to be HMAC'd.
 */
const MAX_CURSOR_CHARS = 512;

/** An opaque cursor: what `nextCursor` holds and `?cursor=` takes back. */
const Cursor = z
  .string()
  .max(MAX_CURSOR_CHARS)
  // Two base64url parts joined by a dot: any other character cannot be one of ours (nor reach a query).
  .regex(/^[A-Za-z0-9_.-]*$/, { message: 'is not a cursor this API issued' });

const pageSizeProblem = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;

/** `?limit=1..100` (default 20; anything else is 422) and an opaque `?cursor=`, for every list. */
export const PageQuery = z.object({
  limit: queryInteger(int32(1, MAX_PAGE_SIZE, pageSizeProblem))
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` }),
  cursor: Cursor.optional().meta({
    description: 'The `nextCursor` of the previous page; absent for the first page',
  }),
});

/** `{data, nextCursor}` for the OpenAPI document. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item).max(MAX_PAGE_SIZE),
    nextCursor: Cursor.nullable().meta({ description: 'Pass as `?cursor=` for the next page; null on the last' }),
  });
}

/** Where a page starts: the sort key and id of the last row of the previous page. */
export interface CursorPosition {
  key: string;
  id: string;
}

const Position = z.tuple([z.string().max(100), z.uuid()]);

/** Where a page of a list ordered newest first on (createdAt, id) starts. */
export interface CreatedAtPosition {
  createdAt: Date;
  id: string;
}

/** Where a page of a list ordered newest first on (a calendar date, id) starts. */
export interface DatedPosition {
  /** YYYY-MM-DD. */
  date: string;
  id: string;
}

const DATE_KEY = /^\d{4}-\d{2}-\d{2}$/;

export type Cursors = ReturnType<typeof createCursors>;

/**
 * Cursors are `base64url(JSON [key, id]).base64url(HMAC)`: opaque to clients, and a tampered or made-up cursor is
 * a 400 rather than a query with values nobody validated. The key is derived from `secret` for this use alone.
 */
export function createCursors(secret: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'mingus/pagination-cursor/v1', 32));
  const mac = (body: string) => createHmac('sha256', key).update(body).digest().subarray(0, 16);
  return {
    encode(position: CursorPosition): string {
      const body = Buffer.from(JSON.stringify([position.key, position.id])).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    decode(cursor: string | undefined): CursorPosition | undefined {
      if (cursor === undefined) return undefined;
      const [body, signature, extra] = cursor.split('.');
      const given = Buffer.from(signature ?? '', 'base64url');
      const expected = body ? mac(body) : undefined;
      if (
        extra !== undefined ||
        !body ||
        !expected ||
        given.length !== expected.length ||
        !timingSafeEqual(given, expected)
      ) {
        throw invalidCursor();
      }
      const parsed = Position.safeParse(safeJson(Buffer.from(body, 'base64url').toString('utf8')));
      if (!parsed.success) throw invalidCursor();
      return { key: parsed.data[0], id: parsed.data[1] };
    },
    /**
     * For lists ordered on (createdAt, id). Every list shares the signing key, so a genuine cursor of a list with
     * another sort key could be replayed here: one that does not hold an instant is refused like a forged one.
     */
    decodeCreatedAt(cursor: string | undefined): CreatedAtPosition | undefined {
      const position = this.decode(cursor);
      if (!position) return undefined;
      const createdAt = new Date(position.key);
      if (Number.isNaN(createdAt.getTime())) throw invalidCursor();
      return { createdAt, id: position.id };
    },
    /**
     * For lists ordered on (a calendar date, id), newest first: check-ins, bank transactions. A genuine cursor of a
     * list with another sort key (same signing key) does not hold a date and is refused like a forged one.
     */
    decodeDated(cursor: string | undefined): DatedPosition | undefined {
      const position = this.decode(cursor);
      if (!position) return undefined;
      if (!DATE_KEY.test(position.key)) throw invalidCursor();
      return { date: position.key, id: position.id };
    },
    /** Cuts the `limit + 1` rows a query fetched into a page; the extra row only says that more exist. */
    page<T, R = T>(rows: T[], limit: number, position: (row: T) => CursorPosition, view?: (row: T) => R) {
      const data = rows.slice(0, limit);
      const last = data.at(-1);
      return {
        data: view ? data.map(view) : (data as unknown as R[]),
        nextCursor: rows.length > limit && last !== undefined ? this.encode(position(last)) : null,
      };
    },
  };
}

/** The cursor position of a row of a list ordered on (createdAt, id). */
export const createdAtPosition = (row: CreatedAtPosition): CursorPosition => ({
  key: row.createdAt.toISOString(),
  id: row.id,
});

function invalidCursor() {
  return new ValidationError('invalid-cursor', 'The cursor is not one this API issued', [
    { path: 'query.cursor', message: 'is not a valid cursor' },
  ]);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
