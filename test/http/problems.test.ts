import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS_DOC, errorsDocWithTable } from '../../scripts/errors-doc.js';
import { PROBLEMS } from '../../src/http/problems.js';
import { ROOT } from '../support/app.js';

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('the problem catalogue', () => {
  it('is the table of docs/errors.md (run `npm run docs:errors` when this fails)', () => {
    const page = readFileSync(ERRORS_DOC, 'utf8');
    expect(page).toBe(errorsDocWithTable(page));
  });

  it('lists only problems some code throws', () => {
    // Where an error is made: `new XError('code'`, `new HttpError(status, 'code'` or a subclass's `super('code'`.
    // A code named only in a route's documentation would not count.
    const thrown = new Set(
      sourcesUnder(path.join(ROOT, 'src')).flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/(?:Error|super)\(\s*(?:\w+,\s*)?'([a-z-]+)'/g)].map((m) => m[1]),
      ),
    );
    expect(thrown.size).toBeGreaterThan(30);
    expect(Object.keys(PROBLEMS).filter((code) => !thrown.has(code))).toEqual([]);
  });
});
