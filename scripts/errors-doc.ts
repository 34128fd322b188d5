/**
 * Writes the table of problems in docs/errors.md from the catalogue (src/http/problems.ts), between its markers.
 * `npm run docs:errors`; test/http/problems.test.ts fails while the page and the catalogue differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROBLEMS } from '../src/http/problems.js';

export const ERRORS_DOC = path.resolve(import.meta.dirname, '../docs/errors.md');
const START = '<!-- problems: written by `npm run docs:errors` from src/http/problems.ts -->';
const END = '<!-- problems: end -->';

export function problemTable(): string {
  const rows = Object.entries(PROBLEMS).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.when.replaceAll('|', '\\|')} |`,
  );
  return [
    '| type (after `…/problems/`) | status | when |',
    '|---|---|---|',
    ...rows,
    '| `about:blank` | 500 | anything unexpected; quote the request id |',
  ].join('\n');
}

/** docs/errors.md with its table as the catalogue says. */
export function errorsDocWithTable(current: string): string {
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/errors.md lacks the markers ${START} … ${END}`);
  return `${current.slice(0, start + START.length)}\n${problemTable()}\n${current.slice(end)}`;
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(ERRORS_DOC, errorsDocWithTable(readFileSync(ERRORS_DOC, 'utf8')));
}
