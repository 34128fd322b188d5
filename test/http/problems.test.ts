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

  it('lists only problems some code answers with', () => {
    const code = sourcesUnder(path.join(ROOT, 'src'))
      .filter((file) => !file.endsWith(path.join('http', 'problems.ts')))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const unused = Object.keys(PROBLEMS).filter((problem) => !code.includes(`'${problem}'`));
    expect(unused).toEqual([]);
  });
});
