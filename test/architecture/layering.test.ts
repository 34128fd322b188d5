import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const CONFIG = require(path.join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[] };
const run = promisify(execFile);

/** A module of our own making, under src/ only while this file runs, so each rule is tried on a real import. */
const PROBE = `layering-probe-${process.pid}`;
const MODULE = `src/modules/${PROBE}`;

/** One deliberately wrong import per rule: the file that holds it, its text, and the rule it must break. */
const WRONG: { rule: string; file: string; text: string }[] = [
  { rule: 'routes-reach-no-database', file: `${MODULE}/${PROBE}.routes.ts`, text: `import './${PROBE}.repo.js';` },
  { rule: 'services-know-no-http-framework', file: `${MODULE}/${PROBE}.service.ts`, text: `import 'express';` },
  {
    rule: 'platform-and-http-import-no-module',
    file: `src/platform/${PROBE}.ts`,
    text: `import '../modules/checkins/checkins.service.js';`,
  },
  {
    rule: 'modules-meet-through-services-and-ports',
    file: `${MODULE}/${PROBE}.helper.ts`,
    text: `import '../auth/auth.repo.js';`,
  },
  {
    rule: 'only-repositories-open-the-database',
    file: `${MODULE}/${PROBE}.codec.ts`,
    text: `import '../../generated/prisma/client.js';`,
  },
  {
    rule: 'only-repositories-speak-sql',
    file: `${MODULE}/${PROBE}.sql.ts`,
    text: `import pg from 'pg';\nexport { pg };`,
  },
  { rule: 'entry-points-are-imported-by-no-one', file: `${MODULE}/${PROBE}.boot.ts`, text: `import '../../app.js';` },
  { rule: 'no-cycles', file: `${MODULE}/${PROBE}.a.ts`, text: `import './${PROBE}.b.js';` },
];
/** What the wrong imports point at, themselves innocent. */
const HELPERS = [
  { file: `${MODULE}/${PROBE}.repo.ts`, text: 'export {};' },
  { file: `${MODULE}/${PROBE}.b.ts`, text: `import './${PROBE}.a.js';` },
];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let violations: Violation[];

beforeAll(async () => {
  try {
    mkdirSync(path.join(ROOT, MODULE), { recursive: true });
    for (const { file, text } of [...WRONG, ...HELPERS]) writeFileSync(path.join(ROOT, file), `${text}\n`);
    // The same command `npm run lint` runs, from the probe files.
    const cli = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
    const files = [...WRONG, ...HELPERS].map((w) => w.file);
    const result = await run(
      process.execPath,
      [cli, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...files],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' })); // it exits non-zero on violations
    violations = (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
  } finally {
    rmSync(path.join(ROOT, MODULE), { recursive: true, force: true });
    rmSync(path.join(ROOT, `src/platform/${PROBE}.ts`), { force: true });
  }
}, 60_000);

afterAll(() => {
  rmSync(path.join(ROOT, MODULE), { recursive: true, force: true });
  rmSync(path.join(ROOT, `src/platform/${PROBE}.ts`), { force: true });
});

describe('the layering rules (`npm run lint`)', () => {
  it('when a rule is added, a wrong import below proves it too', () => {
    expect(WRONG.map((w) => w.rule).sort()).toEqual(CONFIG.forbidden.map((r) => r.name).sort());
  });

  it.each(WRONG)('when a file breaks $rule, the linter names that rule for that file', ({ rule, file }) => {
    expect(violations.filter((v) => v.from === file || v.to === file).map((v) => v.rule.name)).toContain(rule);
  });

  it('when imports keep to the layers (the helpers the probes point at), nothing is reported against them', () => {
    const innocent = HELPERS.map((h) => h.file).filter((f) => !f.endsWith('.b.ts')); // b closes the probed cycle
    expect(violations.filter((v) => innocent.includes(v.from))).toEqual([]);
  });
});
