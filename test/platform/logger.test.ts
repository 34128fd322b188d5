import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  return { logger, last: () => JSON.parse(lines.at(-1) ?? '{}') as { err?: Record<string, unknown> } };
}

describe('an error in a log line', () => {
  it('given as its message alone, keeps the message (not "[object Object]") and no stack', () => {
    const { logger, last } = capture();
    logger.warn({ err: { message: 'connect ECONNREFUSED 127.0.0.1:6379' } }, 'redis unavailable');
    expect(last().err).toEqual({ message: 'connect ECONNREFUSED 127.0.0.1:6379' });
  });

  it('given as an Error, keeps its type, message, code, stack and cause', () => {
    const { logger, last } = capture();
    const err = Object.assign(new Error('outer', { cause: new Error('inner') }), { code: 'E_OUTER' });
    logger.error({ err }, 'failed');
    expect(last().err).toMatchObject({
      type: 'Error',
      message: 'outer',
      code: 'E_OUTER',
      stack: expect.stringContaining('outer'),
      cause: { message: 'inner' },
    });
  });

  it('given as anything else, is written as text', () => {
    const { logger, last } = capture();
    logger.error({ err: 42 }, 'failed');
    expect(last().err).toEqual({ message: '42' });
  });
});
