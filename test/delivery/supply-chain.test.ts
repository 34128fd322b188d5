import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The secret scan and the update rules are only worth something if they bite: these tests prove the scanner's one
// allowance (placeholder database passwords) cannot let a real credential through, and that renovate.json's
// version holds still admit what package.json pins (a rule that excluded the current version would be wrong).

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLES = ['.env.example', '.env.production.example'].filter((f) => existsSync(path.join(ROOT, f)));
const connections = () => /postgres(?:ql)?:\/\/([^:/@\s]+):([^@/\s]+)@/g;
const WITH_DATABASE_URL = EXAMPLES.filter((f) => connections().test(readFileSync(path.join(ROOT, f), 'utf8')));

function secretlint(content: string, fileName: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      path.join(ROOT, 'node_modules/.bin/secretlint'),
      ['--stdinFileName', fileName, '--format', 'compact'],
      { cwd: ROOT, timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
      },
    );
    child.stdin?.end(content);
  });
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };
const renovate = JSON.parse(readFileSync(path.join(ROOT, 'renovate.json'), 'utf8')) as {
  packageRules: Array<{ matchPackageNames?: string[]; allowedVersions?: string; groupName?: string }>;
};
const major = (version: string) => Number(/\d+/.exec(version)?.[0]);

describe('secret scanning', () => {
  it.each(EXAMPLES)('when %s is scanned as shipped, its placeholders pass', async (file) => {
    const res = await secretlint(readFileSync(path.join(ROOT, file), 'utf8'), file);

    expect(res.code, res.output).toBe(0);
  });

  it.each(WITH_DATABASE_URL)(
    'when a placeholder password in %s is replaced by a real-looking one, the scan fails',
    async (file) => {
      const shipped = readFileSync(path.join(ROOT, file), 'utf8');
      const leaked = shipped.replace(
        connections(),
        (_m, user: string) => `postgresql://${user}:${randomBytes(9).toString('base64url')}@`,
      );

      const res = await secretlint(leaked, file);

      expect(res.code).toBe(1);
      expect(res.output).toMatch(/PostgreSQLConnection/);
    },
  );
});

describe('renovate.json', () => {
  const capped = renovate.packageRules.filter((r) => r.allowedVersions);

  it.each(capped.map((r) => [r.matchPackageNames?.join(', '), r] as const))(
    'when %s is held below a major, the version package.json pins is inside the hold',
    (_names, rule) => {
      const ceiling = /^<(\d+)$/.exec(rule.allowedVersions ?? '');
      expect(ceiling, `allowedVersions "${rule.allowedVersions}" should read "<major"`).not.toBeNull();
      const held = (rule.matchPackageNames ?? []).filter((n) => pinned[n]);
      expect(held.length).toBeGreaterThan(0);
      for (const name of held) expect(major(pinned[name] as string)).toBeLessThan(Number(ceiling?.[1]));
    },
  );

  it('when Node 20 is the oldest supported runtime, @types/node is pinned to and held on that major', () => {
    const floor = major(pkg.engines.node);
    const rule = capped.find((r) => r.matchPackageNames?.includes('@types/node'));

    expect(major(pinned['@types/node'] as string)).toBe(floor);
    expect(rule?.allowedVersions).toBe(`<${floor + 1}`);
  });

  it('when package.json lists Prisma packages, one group covers every one of them', () => {
    const group = renovate.packageRules.find((r) => r.groupName === 'prisma');
    const names = Object.keys(pinned).filter((n) => n === 'prisma' || n.startsWith('@prisma/'));

    expect(names.length).toBeGreaterThan(1);
    expect(group?.matchPackageNames).toEqual(expect.arrayContaining(['prisma', '@prisma/**']));
  });
});
