import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REQUIRED_IN_PRODUCTION, SECRET_VARIABLES } from '../../src/config/env.schema.js';
import {
  configProblems,
  type K8sObject,
  k8sObjects,
  loadFrom,
  readRepoFile,
  schemaNames,
  strongSecret,
  vapidPrivateKey,
} from './delivery.helpers.js';

/**
 * docs/deployment.md followed to the letter: the Secret its step 3 creates, beside the ConfigMap and NetworkPolicies
 * deploy/k8s ships. Every list is derived from the schema (REQUIRED_IN_PRODUCTION, SECRET_VARIABLES), never copied,
 * so a new required secret fails here until the documents name it.
 */

const objects = k8sObjects();
const configMap = objects.find((o) => o.kind === 'ConfigMap') as K8sObject;
const secretExample = objects.find((o) => o.kind === 'Secret') as K8sObject;
const configMapData = configMap.data ?? {};

/** The `--from-literal=NAME=value` pairs of a `kubectl create secret generic` command, quotes removed. */
function fromLiterals(command: string): Map<string, string> {
  const literals = new Map<string, string>();
  for (const m of command.matchAll(/--from-literal=([A-Z][A-Z0-9_]*)=('[^']*'|"(?:[^"\\]|\\.)*"|[^\s\\]+)/g)) {
    const raw = m[2] as string;
    literals.set(m[1] as string, /^['"]/.test(raw) ? raw.slice(1, -1) : raw);
  }
  return literals;
}

/** Every `kubectl … create secret generic mingus-api-secrets …` command of a text, continuation lines joined. */
function createSecretCommands(text: string): string[] {
  const joined = text.replace(/\\\n\s*(?:#\s*)?/g, ' ');
  return [...joined.matchAll(/kubectl\b[^\n]*\bcreate secret generic mingus-api-secrets\b[^\n]*/g)].map((m) => m[0]);
}

/**
 * What an operator types in place of the document's shell: `$(openssl rand -base64 N)` runs, and `…` (what only the
 * operator knows: a password, the VAPID key web-push printed) becomes a value of that kind.
 */
function asTyped(name: string, value: string): string {
  const typed = value.replace(/\$\(openssl rand -base64 (\d+)\)/g, (_, n: string) =>
    randomBytes(Number(n)).toString('base64'),
  );
  if (name === 'VAPID_PRIVATE_KEY' && typed === '…') return vapidPrivateKey();
  return typed.replaceAll('…', /^[a-z]+:\/\//.test(typed) ? randomBytes(16).toString('hex') : strongSecret());
}

const docsCommands = createSecretCommands(readRepoFile('docs/deployment.md'));
const exampleCommands = createSecretCommands(readRepoFile('deploy/k8s/secret.example.yaml'));
const docsSecret = () => {
  const [command] = docsCommands;
  return new Map([...fromLiterals(command ?? '')].map(([k, v]) => [k, asTyped(k, v)]));
};

/** The variables production requires that the ConfigMap does not hold, and every secret it may be given. */
const secretNamesRequired = () =>
  Object.keys(REQUIRED_IN_PRODUCTION)
    .filter((name) => !(name in configMapData))
    .sort();

/** The port a URL reaches, its scheme's default when it names none. */
function portOf(url: string): number {
  const u = new URL(url);
  if (u.port) return Number(u.port);
  const defaults: Record<string, number> = { 'postgresql:': 5432, 'postgres:': 5432, 'redis:': 6379, 'rediss:': 6379 };
  const port = defaults[u.protocol] ?? (u.protocol === 'smtps:' ? 465 : 587);
  return port;
}

/** The TCP ports a NetworkPolicy lets its pods reach, by any egress rule. */
const egressPorts = (policy: K8sObject) =>
  new Set(
    (policy.spec.egress as Array<{ ports: Array<{ protocol: string; port: number }> }>).flatMap((rule) =>
      rule.ports.filter((p) => p.protocol === 'TCP').map((p) => p.port),
    ),
  );

describe('docs/deployment.md followed literally', () => {
  it('when step 3 creates the Secret, it is one command whose every name is a variable of the schema', () => {
    expect(docsCommands).toHaveLength(1);
    const names = schemaNames();
    for (const name of docsSecret().keys()) expect(names, name).toContain(name);
  });

  it('when the Secret lists of the docs and the manifests are compared with the schema, each holds every secret production requires', () => {
    const required = secretNamesRequired();
    expect(required.length).toBeGreaterThan(0);
    const lists: Array<[string, string[]]> = [
      ['docs/deployment.md step 3', [...docsSecret().keys()]],
      ...exampleCommands.map((c, i): [string, string[]] => [
        `secret.example.yaml command ${i + 1}`,
        [...fromLiterals(c).keys()],
      ]),
      ['secret.example.yaml stringData', Object.keys(secretExample.stringData ?? {})],
    ];
    expect(exampleCommands.length).toBeGreaterThan(0);
    for (const [where, names] of lists) {
      expect(names, where).toEqual(expect.arrayContaining(required));
      // A setting in both would be read from whichever envFrom comes last: one place each.
      for (const name of names) expect(Object.keys(configMapData), `${where}: ${name}`).not.toContain(name);
    }
    // A secret the service reads must never sit in the ConfigMap.
    for (const name of SECRET_VARIABLES) expect(Object.keys(configMapData), name).not.toContain(name);
  });

  it('when the documented Secret and the shipped ConfigMap form the environment, production accepts it', () => {
    const env = { ...configMapData, ...Object.fromEntries(docsSecret()) };
    expect(env.NODE_ENV).toBe('production');
    expect(configProblems(env)).toEqual([]);
    const config = loadFrom(env);
    expect(config.production).toBe(true);
    expect(config.db.url).toBe(env.DATABASE_URL);
    expect(config.redis.url).toBe(env.REDIS_URL);
  });

  it('when the pods reach the documented PostgreSQL, Redis and SMTP URLs, the NetworkPolicies let those ports out', () => {
    const secret = docsSecret();
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const api = policies.find((p) => p.metadata.name === 'mingus-api') as K8sObject;
    const worker = policies.find((p) => p.metadata.name === 'mingus-api-worker') as K8sObject;
    for (const [policy, names] of [
      [api, ['DATABASE_URL', 'REDIS_URL']],
      [worker, ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL']],
    ] as const) {
      for (const name of names) {
        for (const [where, url] of [
          ['docs/deployment.md', secret.get(name)],
          ['secret.example.yaml', secretExample.stringData?.[name]],
        ]) {
          expect(url, `${where} ${name}`).toBeTruthy();
          expect([...egressPorts(policy)], `${where} ${name} from ${policy.metadata.name}`).toContain(
            portOf(url as string),
          );
        }
      }
    }
  });
});

describe('what the README says production refuses', () => {
  it('when the README lists the settings production cannot start without, it names every one the schema requires', () => {
    const readme = readRepoFile('README.md').replace(/\s+/g, ' ');
    const sentence =
      /With `NODE_ENV=production` the service refuses to start[^.]*\bis missing\b/.exec(readme)?.[0] ?? '';
    expect(sentence).not.toBe('');
    for (const name of Object.keys(REQUIRED_IN_PRODUCTION)) expect(sentence, name).toContain(`\`${name}\``);
  });
});
