import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const CONFIG = require(path.join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[] };
const run = promisify(execFile);

/** A module of our own making, in a mirror of the tree (below), so each rule is tried on a real import. */
const PROBE = 'layering-probe';
const MODULE = `src/modules/${PROBE}`;

/** One deliberately wrong import per rule: the file that holds it, its text, and the rule it must break. */
const WRONG: { rule: string; file: string; text: string }[] = [
  { rule: 'routes-reach-no-database', file: `${MODULE}/${PROBE}.routes.ts`, text: `import './${PROBE}.repo.js';` },
  { rule: 'services-know-no-http-framework', file: `${MODULE}/${PROBE}.service.ts`, text: `import 'express';` },
  {
    rule: 'modules-hold-only-the-database-handle',
    file: `${MODULE}/${PROBE}.port.ts`,
    text: `import type { Database } from '../../platform/db.js';\nexport type D = Database;`,
  },
  {
    rule: 'modules-reach-redis-through-its-guard',
    file: `${MODULE}/${PROBE}.cache.ts`,
    text: `import type { RedisClient } from '../../platform/redis.js';\nexport type R = RedisClient;`,
  },
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
    text: `import type { Prisma } from '../../generated/prisma/client.js';\nexport type P = Prisma.Sql;`,
  },
  {
    rule: 'only-repositories-speak-sql',
    file: `${MODULE}/${PROBE}.sql.ts`,
    text: `import type pg from 'pg';\nexport type Pool = pg.Pool;`,
  },
  {
    rule: 'entry-points-are-imported-by-no-one',
    file: `${MODULE}/${PROBE}.boot.ts`,
    text: `import '../../cli/maintenance.js';`,
  },
  { rule: 'no-cycles', file: `${MODULE}/${PROBE}.a.ts`, text: `import './${PROBE}.b.js';` },
];
/** Imports the layers allow: nothing may be reported against these. */
const ALLOWED = [
  {
    file: `${MODULE}/${PROBE}.repo.ts`,
    text: `import { clientOf } from '../../platform/db-access.js';\nexport { clientOf };`,
  },
  {
    file: `${MODULE}/${PROBE}.flow.service.ts`,
    text: [
      `import './${PROBE}.repo.js';`,
      `import type { Db } from '../../platform/db-handle.js';`,
      `import type { AuditLog } from '../audit/audit.port.js';`,
      `import type { AuditRecord } from '../audit/audit.schemas.js';`,
      `import type { ProfilesService } from '../profiles/profiles.service.js';`,
      'export type Deps = { db: Db; auditLog: AuditLog; profiles: ProfilesService; entry: AuditRecord };',
    ].join('\n'),
  },
  { file: `${MODULE}/${PROBE}.b.ts`, text: `import './${PROBE}.a.js';` },
];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/**
 * A scratch root that mirrors the repository with symbolic links (src/modules and src/platform as real folders of
 * links, so the probes can be added there), so the probes never appear in the working tree.
 */
function mirror(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'mingus-layers-'));
  const folders = ['src', 'src/modules', 'src/platform'];
  for (const dir of folders) {
    mkdirSync(path.join(root, dir));
    for (const entry of readdirSync(path.join(ROOT, dir))) {
      // A folder the probes go into is made, not linked: a link would put them into the working tree.
      if (!folders.includes(`${dir}/${entry}`)) symlinkSync(path.join(ROOT, dir, entry), path.join(root, dir, entry));
    }
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  for (const file of ['tsconfig.json', 'package.json']) copyFileSync(path.join(ROOT, file), path.join(root, file));
  // The repository's rules, with paths kept as the mirror names them rather than resolved to the links' targets.
  writeFileSync(
    path.join(root, '.dependency-cruiser.cjs'),
    `const c = require(${JSON.stringify(path.join(ROOT, '.dependency-cruiser.cjs'))});\n` +
      'module.exports = { ...c, options: { ...c.options, preserveSymlinks: true } };\n',
  );
  mkdirSync(path.join(root, MODULE));
  for (const { file, text } of [...WRONG, ...ALLOWED]) writeFileSync(path.join(root, file), `${text}\n`);
  return root;
}

let root: string;
let violations: Violation[];

beforeAll(async () => {
  root = mirror();
  // The command `npm run lint` runs, from the probe files.
  const cli = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const files = [...WRONG, ...ALLOWED].map((w) => w.file);
  const result = await run(
    process.execPath,
    [cli, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...files],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' })); // it exits non-zero on violations
  violations = (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the layering rules (`npm run lint`)', () => {
  it('when a rule is added, a wrong import below proves it too', () => {
    expect(WRONG.map((w) => w.rule).sort()).toEqual(CONFIG.forbidden.map((r) => r.name).sort());
  });

  it.each(WRONG)('when a file breaks $rule, the linter names that rule for that file', ({ rule, file }) => {
    expect(violations.filter((v) => v.from === file || v.to === file).map((v) => v.rule.name)).toContain(rule);
  });

  it("when a service imports its repository, the database handle and other modules' services, ports and schemas, nothing is reported", () => {
    const allowed = ALLOWED.map((h) => h.file).filter((f) => !f.endsWith('.b.ts')); // b closes the probed cycle
    expect(violations.filter((v) => allowed.includes(v.from))).toEqual([]);
  });
});
