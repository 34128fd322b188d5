import { existsSync } from 'node:fs';
import path from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/env.schema.js';
import { type DockerInstruction, dockerStages, ROOT, readRepoFile } from './delivery.helpers.js';

const dockerfile = readRepoFile('Dockerfile.production');
const stages = dockerStages(dockerfile);
const build = stages[0] ?? [];
const runtime = stages.at(-1) ?? [];

const all = (stage: DockerInstruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);
const runs = (stage: DockerInstruction[]) => all(stage, 'RUN').map((i) => i.args);

/** `KEY=value` pairs of the ENV instructions of a stage. */
function envOf(stage: DockerInstruction[]): Record<string, string> {
  const pairs = all(stage, 'ENV').flatMap((i) => i.args.split(/\s+/));
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** The runtime stage's COPY instructions as the CI layout check reads them: flags, sources, destination. */
const runtimeCopies = all(runtime, 'COPY').map((i) => {
  const words = i.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  return {
    flags,
    from: flags.find((f) => f.startsWith('--from='))?.slice(7),
    sources: paths.slice(0, -1),
    dest: paths.at(-1) ?? '',
  };
});

/** Where a COPY puts its sources, relative to the runtime WORKDIR (/app). */
const destinations = runtimeCopies.flatMap(({ sources, dest }) =>
  sources.map((src) => {
    const d = dest.replace(/^\/app\//, '').replace(/^\.\//, '');
    return d === '' || d.endsWith('/') ? `${d}${path.basename(src)}` : d;
  }),
);

describe('Dockerfile.production', () => {
  it('when linted with dockerfile-utils, reports nothing (and the linter does catch a broken file)', () => {
    expect(validate(dockerfile)).toEqual([]);
    expect(validate('FROM node:24.17.0-bookworm-slim\nCOPY only-one-argument\n').length).toBeGreaterThan(0);
  });

  it('when built, uses a build stage with dev dependencies and a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build[0]?.args).toMatch(/\bAS build$/i);
    expect(runs(build).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(build).some((r) => /\bprisma generate\b/.test(r) && /\bnpm run build\b/.test(r))).toBe(true);
    expect(runtimeCopies.some((c) => c.from === 'build')).toBe(true);
  });

  it('when pulled, every stage starts from the same exactly pinned Node 24 slim image', () => {
    const bases = stages.map((s) => s[0]?.args.split(/\s+/)[0]);
    for (const base of bases) expect(base).toMatch(/^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(new Set(bases).size).toBe(1);
  });

  it('when running, the runtime stage is production, unprivileged and started through an init process', () => {
    expect(envOf(runtime).NODE_ENV).toBe('production');
    const user = all(runtime, 'USER').at(-1)?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(user).toMatch(/^(node|1000)(:(node|1000))?$/);
    expect(all(runtime, 'ENTRYPOINT').at(-1)?.args).toBe('["/usr/bin/tini", "--"]');
    expect(runs(runtime).some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true);
    expect(JSON.parse(all(runtime, 'CMD').at(-1)?.args ?? '[]')).toEqual(['node', 'dist/main.js']);
    expect(all(runtime, 'EXPOSE').map((i) => i.args)).toEqual([String(EnvSchema.shape.PORT.parse(undefined))]);
  });

  it('when dependencies are installed at run time, only production ones arrive, with no script, cache or compiler', () => {
    const installs = runs(runtime).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    const [install = ''] = installs;
    expect(install).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    expect(install).toMatch(/\bnpm ci\b[^&]*--ignore-scripts/);
    // The cache is removed in the same layer, or it would stay in the image anyway.
    expect(install).toMatch(/&&\s*npm cache clean --force/);
    for (const run of runs(runtime)) {
      expect(run).not.toMatch(/\b(build-essential|gcc|g\+\+|make|python3?|node-gyp)\b/);
      if (run.includes('apt-get install')) expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    }
    // Nothing from the build stage but the compiled output: no dev dependency, no sources.
    for (const copy of runtimeCopies.filter((c) => c.from)) expect(copy.sources).toEqual(['/app/dist']);
  });

  it('when the service and the migration Job start, the runtime has every file they read', () => {
    for (const needed of [
      'dist',
      'package.json',
      'package-lock.json',
      'prisma',
      'prisma.config.ts',
      'scripts/prisma-schema-engine.mjs',
    ]) {
      expect(destinations).toContain(needed);
    }
    for (const { from, sources } of runtimeCopies) {
      if (!from) for (const src of sources) expect(existsSync(path.join(ROOT, src)), src).toBe(true);
    }
  });

  it('when CI replays the runtime stage, every COPY is in the plain form scripts/ci/runtime-layout-check.sh reads', () => {
    for (const copy of runtimeCopies) {
      expect(copy.sources.length).toBeGreaterThan(0);
      expect(copy.dest).not.toMatch(/^\[/);
      for (const flag of copy.flags) expect(flag).toMatch(/^--(from=build|chown=\S+|chmod=\S+|link)$/);
      if (copy.sources.length > 1) expect(copy.dest).toMatch(/\/$/);
    }
    expect(all(runtime, 'WORKDIR').map((i) => i.args)).toEqual(['/app']);
  });
});

describe('.dockerignore', () => {
  const rules = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('when the build context is sent, starts from nothing and lets in only what the stages copy', () => {
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
    const copied = stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((i) => !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const src of copied) expect(allowed, src).toContain(src.replace(/\/$/, ''));
  });

  it('when secrets, local data, tests or docs lie in the tree, keeps them out whatever the allowlist says', () => {
    const last = (pattern: string) => rules.lastIndexOf(pattern);
    for (const pattern of ['**/.env*', '**/.data', '**/.git', '**/node_modules', 'dist', 'test', 'bench', 'docs']) {
      expect(last(pattern), pattern).toBeGreaterThan(Math.max(...rules.map((r, i) => (r.startsWith('!') ? i : -1))));
    }
  });
});

describe('CI', () => {
  it('when .ci/run runs, it lints the Dockerfile and replays the runtime layout after the test suite', () => {
    const steps = readRepoFile('.ci/run')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    const at = (command: string) => steps.findIndex((l) => l.trim() === command);
    expect(at('npm test')).toBeGreaterThan(-1);
    expect(at('bash scripts/ci/dockerfile-lint.sh')).toBeGreaterThan(at('npm test'));
    expect(at('bash scripts/ci/runtime-layout-check.sh')).toBeGreaterThan(at('npm test'));
  });
});
