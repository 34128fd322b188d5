import { describe, expect, it } from 'vitest';
import { EnvSchema, REQUIRED_IN_PRODUCTION } from '../../src/config/env.schema.js';
import {
  configProblems,
  isUrl,
  loadFrom,
  productionExample,
  readEnvFile,
  readRepoFile,
  schemaNames,
  strongSecret,
  withRealSecrets,
} from './delivery.helpers.js';

const example = productionExample();
const schema = EnvSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;

/** Rows `| \`NAME\` | default | required in production | what it does |` of the "## Variables" section. */
function documentedVariables() {
  const doc = readRepoFile('docs/configuration.md');
  const section = /^## Variables\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
  return new Map(
    [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$/gm)].map((m) => [
      m[1] as string,
      { default: (m[2] as string).trim(), required: (m[3] as string).trim(), description: (m[4] as string).trim() },
    ]),
  );
}

/** How docs/configuration.md writes the schema's default for a variable: `value`, or — when there is none. */
function expectedDefault(name: string): string {
  const result = schema[name]?.safeParse(undefined);
  const value = result?.success ? result.data : undefined;
  if (value === undefined || value === false || value === '' || (Array.isArray(value) && value.length === 0))
    return '—';
  return `\`${Array.isArray(value) ? value.join(',') : String(value)}\``;
}

describe('configuration documentation', () => {
  it('when the schema, .env.example, .env.production.example and docs/configuration.md are compared, they name the same variables', () => {
    const names = schemaNames();
    expect([...readEnvFile(readRepoFile('.env.example')).keys()].sort(), '.env.example').toEqual(names);
    expect([...example.service.keys()].sort(), '.env.production.example').toEqual(names);
    expect([...documentedVariables().keys()].sort(), 'docs/configuration.md').toEqual(names);
  });

  it('when docs/configuration.md gives a default and says whether production requires it, the schema agrees', () => {
    for (const [name, row] of documentedVariables()) {
      expect(row.default, `${name} default`).toBe(expectedDefault(name));
      expect(row.required.startsWith('yes'), `${name} required in production`).toBe(name in REQUIRED_IN_PRODUCTION);
      expect(row.description.length, `${name} description`).toBeGreaterThan(20);
    }
  });

  it('when every variable is documented in .env.production.example, each has a comment nearby', () => {
    const lines = example.text.split('\n');
    for (const name of schemaNames()) {
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      const before = lines.slice(Math.max(0, at - 4), at);
      expect(
        before.some((l) => l.startsWith('# ')),
        name,
      ).toBe(true);
    }
  });
});

describe('.env.production.example', () => {
  it('when copied unedited and loaded in production, is refused before the service listens', () => {
    const env = Object.fromEntries(example.service);
    expect(env.NODE_ENV).toBe('production');
    const problems = configProblems(env);
    expect(problems.length).toBeGreaterThan(0);
    for (const [name, value] of example.service) {
      if (!/replace-me/i.test(value)) continue;
      // A bare secret is refused as a placeholder; a URL, for the placeholder password it carries.
      const refusal = isUrl(value) ? 'its password is an example placeholder' : 'is an example placeholder';
      expect(problems, name).toContainEqual(expect.stringMatching(new RegExp(`^${name}: ${refusal}`)));
    }
  });

  it('when each secret placeholder alone is left in, production still refuses it', () => {
    const real = withRealSecrets(example.service);
    const placeholders = [...example.service].filter(([, v]) => /replace-me/i.test(v) && !isUrl(v));
    expect(placeholders.map(([k]) => k)).toContain('HEALTH_TOKEN');
    for (const [name, value] of placeholders) {
      expect(configProblems({ ...real, [name]: value }), name).toEqual([
        expect.stringMatching(new RegExp(`^${name}: is an example placeholder`)),
      ]);
    }
  });

  it('when its secrets are replaced by real ones, loads as a production configuration', () => {
    const real = withRealSecrets(example.service);
    const config = loadFrom(real);
    expect(config.production).toBe(true);
    expect(config.http.port).toBe(3000);
    expect(config.db.url).toBe(real.DATABASE_URL);
    expect(config.redis.url).toBe(real.REDIS_URL);
    expect(config.http.corsOrigins.every((o) => o.startsWith('https://'))).toBe(true);
    expect(config.health.token).not.toMatch(/replace-me/);
  });

  it('when a strong secret is given, it is accepted (the placeholder check does not refuse everything)', () => {
    const real = withRealSecrets(example.service);
    expect(configProblems({ ...real, HEALTH_TOKEN: strongSecret() })).toEqual([]);
  });
});
