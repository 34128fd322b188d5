import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CalendarDate, defaulted, Id, int32, int64 } from '../../src/http/field-schemas.js';
import { PageQuery } from '../../src/http/pagination.js';

describe('field schemas', () => {
  it('when an integer is declared beyond its format, refuses to build the schema', () => {
    expect(() => int32(0, 2 ** 31)).toThrow(RangeError);
    expect(() => int64(0, 2 ** 53)).toThrow(RangeError);
    expect(int32(1, 10).safeParse(10).success).toBe(true);
    expect(int32(1, 10).safeParse(11).success).toBe(false);
  });

  it('when an id or a date is malformed, however long, reports one problem', () => {
    for (const value of ['x', 'x'.repeat(40)]) expect(Id.safeParse(value).error?.issues).toHaveLength(1);
    for (const value of ['2023-02-30', '2023-11-24T00:00']) {
      expect(CalendarDate.safeParse(value).error?.issues).toHaveLength(1);
    }
  });

  it('when a defaulted field is left out, parses to the default; when given, to the value', () => {
    const Body = z.object({ channel: defaulted(z.enum(['push', 'email']), 'push') });
    expect(Body.parse({})).toEqual({ channel: 'push' });
    expect(Body.parse({ channel: 'email' })).toEqual({ channel: 'email' });
    expect(Body.safeParse({ channel: 'sms' }).success).toBe(false);
  });
});

describe('PageQuery', () => {
  it('when limit is left out, is 20; when it is digits from 1 to 100, is that number', () => {
    expect(PageQuery.parse({}).limit).toBe(20);
    expect(PageQuery.parse({ limit: '7' }).limit).toBe(7);
    expect(PageQuery.parse({ limit: '100' }).limit).toBe(100);
  });

  it('when limit is anything else, reports one problem on limit', () => {
    for (const limit of ['0', '101', '-1', '1e1', '2.5', ' 5', '', 'ten', ['1', '2']]) {
      const issues = PageQuery.safeParse({ limit }).error?.issues;
      expect(
        issues?.map((i) => [i.path, i.message]),
        JSON.stringify(limit),
      ).toEqual([[['limit'], 'must be a whole number from 1 to 100']]);
    }
  });
});
