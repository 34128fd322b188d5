import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestApp, type TestApp } from '../support/app.js';

const DOCUMENTS = { client: '/openapi.json', operator: '/openapi/operator.json' } as const;
type Audience = keyof typeof DOCUMENTS;

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  // Inside the repository, in no dot-folder: .spectral.yaml's overrides name files by globs relative to itself,
  // and globs skip dot-folders. Git ignores these folders.
  dir = await mkdtemp(path.join(ROOT, 'test/openapi/served-'));
  for (const [audience, url] of Object.entries(DOCUMENTS)) {
    const res = await request(t.app).get(url);
    expect(res.status, url).toBe(200);
    // Named so that .spectral.yaml's overrides (`**/operator.json`) find the operator document.
    await writeFile(path.join(dir, audience === 'client' ? 'openapi.json' : 'operator.json'), res.text);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await t.close();
});

const fileOf = (audience: Audience) => path.join(dir, audience === 'client' ? 'openapi.json' : 'operator.json');

/** Runs a linter from node_modules/.bin; its exit status says nothing we need, its JSON report says all. */
function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(ROOT, 'node_modules/.bin', bin),
      args,
      {
        cwd: ROOT,
        maxBuffer: 64 * 1024 * 1024,
        // Redocly would otherwise send usage data and look for updates: no network here, none wanted in CI.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
      (err, stdout, stderr) => {
        if (stdout.trim() === '') reject(new Error(`${bin} printed no report: ${err?.message ?? ''}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A linter is a separate Node process loading its rules: seconds alone, several times that on a loaded machine. */
const LINT_TIMEOUT_MS = 90_000;

describe.each(['client', 'operator'] as const)('the %s document', (audience) => {
  it(
    'when linted by Spectral with the OWASP API Security ruleset, has no error',
    async () => {
      const report = JSON.parse(
        await run('spectral', ['lint', fileOf(audience), '--ruleset', '.spectral.yaml', '-f', 'json', '-q']),
      ) as { code: string; severity: number; message: string; path: string[] }[];
      const errors = report
        .filter((r) => r.severity === 0)
        .map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`);
      expect(errors).toEqual([]);
    },
    LINT_TIMEOUT_MS,
  );

  it(
    'when linted by Redocly with its recommended rules, has no error',
    async () => {
      const report = JSON.parse(
        await run('redocly', ['lint', fileOf(audience), '--config', 'redocly.yaml', '--format', 'json']),
      ) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
      const errors = report.problems
        .filter((p) => p.severity === 'error')
        .map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
      expect(errors).toEqual([]);
    },
    LINT_TIMEOUT_MS,
  );
});
