import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, REQUIRED_IN_PRODUCTION } from '../../src/config/env.schema.js';
import { MIN_POSTGRES_MAJOR } from '../../src/platform/migrations.js';
import { productionExample, ROOT, readRepoFile, schemaNames, servedProbePaths } from './delivery.helpers.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  volumes?: string[];
  ports?: string[];
  restart?: string;
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
}

const text = readRepoFile('docker-compose.yml');
// Compose merges `<<:` keys (the shared image and hardening blocks); so does this parse.
const compose = parse(text, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { services } = compose;
const example = productionExample();

/** Every string value of the parsed file (comments are not values: a `${NAME}` in a comment interpolates nothing). */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
      : [];

const majorMinor = (image: string | undefined, name: string) => {
  // Pinned: major.minor[.patch][-variant], optionally with the digest Renovate adds (docker:pinDigests).
  const m = new RegExp(`^${name}:(\\d+)\\.(\\d+)(\\.\\d+)?(-[a-z0-9]+)?(@sha256:[0-9a-f]{64})?$`).exec(image ?? '');
  return m ? Number(m[1]) : Number.NaN;
};
const seconds = (duration: string | undefined) => {
  const m = /^(\d+)(s|m)$/.exec(duration ?? '');
  return m ? Number(m[1]) * (m[2] === 'm' ? 60 : 1) : Number.NaN;
};

describe('docker-compose.yml', () => {
  it('when started, runs the api and the worker with a supported PostgreSQL and Redis 7+ on pinned images, and a one-shot migration', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
    expect(majorMinor(services.postgres?.image, 'postgres')).toBeGreaterThanOrEqual(MIN_POSTGRES_MAJOR);
    expect(majorMinor(services.redis?.image, 'redis')).toBeGreaterThanOrEqual(7);
    expect(services.migrate?.image).toBe(services.api?.image);
    expect(services.api?.build).toEqual({ context: '.', dockerfile: 'Dockerfile.production' });
    expect(services.migrate?.command?.join(' ')).toMatch(/\bprisma migrate deploy$/);
    expect(services.migrate?.restart).toBe('no');
    expect(services.worker?.image).toBe(services.api?.image);
    expect(services.worker?.build).toEqual(services.api?.build);
  });

  it('when the api is reached through the reverse proxy on the same machine, the example trusts that one hop', () => {
    // Published on 127.0.0.1 only: every client arrives through the local proxy, so without a trusted hop they would
    // all share the proxy's address and one rate-limit bucket.
    expect(services.api?.ports).toEqual(['127.0.0.1:3000:3000']);
    const trustProxy = productionExample().service.get('TRUST_PROXY') ?? '';
    expect(EnvSchema.shape.TRUST_PROXY.parse(trustProxy)).toBe(1);
  });

  it('when the worker runs, it is the compiled src/worker.ts, as `npm run worker` runs it from source', () => {
    expect(services.worker?.command).toEqual(['node', 'dist/worker.js']);
    expect(existsSync(path.join(ROOT, 'src/worker.ts'))).toBe(true);
    const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.worker).toMatch(/\bsrc\/worker\.ts$/);
  });

  it('when ordering the start, waits for healthy databases and a successful migration before the api', () => {
    expect(services.migrate?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.api?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    // The worker does not check the migrations itself.
    expect(services.worker?.depends_on).toEqual(services.api?.depends_on);
    for (const name of ['postgres', 'redis', 'api', 'worker']) {
      const check = services[name]?.healthcheck;
      expect(check?.disable, name).not.toBe(true);
      expect(Array.isArray(check?.test) ? check.test.length : 0, name).toBeGreaterThan(1);
    }
    expect(JSON.stringify(services.api?.healthcheck?.test)).toContain('/health/readiness');
  });

  it('when the worker is checked, its healthcheck asks a probe it serves, on its default port, which is not published', () => {
    const port = EnvSchema.shape.WORKER_PORT.parse(undefined);
    expect(example.service.get('WORKER_PORT')).toBe(String(port));
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/[\w/]+)/.exec(JSON.stringify(services.worker?.healthcheck?.test));
    expect(Number(url?.[1])).toBe(port);
    expect(url?.[2]).toBe('/health/liveness');
    expect(servedProbePaths()).toContain(url?.[2]);
    expect(services.worker?.ports).toBeUndefined();
  });

  it('when data must survive a restart, keeps it in declared named volumes', () => {
    const used = Object.entries(services).flatMap(([, s]) => (s.volumes ?? []).map((v) => v.split(':')[0]));
    expect(used.sort()).toEqual(['postgres-data', 'redis-data']);
    for (const volume of used) expect(Object.keys(compose.volumes)).toContain(volume);
    expect(services.postgres?.volumes).toContain('postgres-data:/var/lib/postgresql/data');
  });

  it('when the api is published, listens on the configured default port with room to drain on stop', () => {
    const port = String(EnvSchema.shape.PORT.parse(undefined));
    // Published on loopback only: plain HTTP stays on the machine, behind its TLS proxy.
    expect(services.api?.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(example.service.get('PORT')).toBe(port);
    const drainSeconds = Number(example.service.get('SHUTDOWN_TIMEOUT_MS')) / 1000;
    // src/main.ts forces an exit 5 s after the drain deadline; Docker's SIGKILL must come later still.
    expect(seconds(services.api?.stop_grace_period)).toBeGreaterThan(drainSeconds + 5);
    // The worker drains its running jobs for as long, and forces its exit 5 s later too.
    expect(seconds(services.worker?.stop_grace_period)).toBeGreaterThan(drainSeconds + 5);
    for (const name of ['api', 'migrate', 'worker']) {
      expect(services[name]?.read_only, name).toBe(true);
      expect(services[name]?.cap_drop, name).toEqual(['ALL']);
    }
  });

  it('when variables are read, every one it interpolates and every one the api needs is in .env.production.example', () => {
    for (const name of ['api', 'migrate', 'worker']) expect(services[name]?.env_file, name).toBe('.env');
    const documented = new Set([...example.service.keys(), ...example.composeOnly.keys()]);
    const interpolated = strings(compose).flatMap((s) =>
      [...s.replace(/\$\$/g, '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]),
    );
    expect(interpolated.length).toBeGreaterThan(0);
    for (const name of interpolated) expect(documented, `\${${name}}`).toContain(name);
    for (const name of schemaNames()) expect(example.service.has(name), name).toBe(true);
    for (const name of Object.keys(REQUIRED_IN_PRODUCTION)) expect(example.service.get(name), name).not.toBe('');
  });

  it('when the example is copied to .env, its URLs reach the compose services with the postgres password', () => {
    const database = new URL(example.service.get('DATABASE_URL') ?? '');
    expect(database.hostname).toBe('postgres');
    expect(database.username).toBe(services.postgres?.environment?.POSTGRES_USER);
    expect(database.pathname).toBe(`/${services.postgres?.environment?.POSTGRES_DB}`);
    expect(decodeURIComponent(database.password)).toBe(example.composeOnly.get('POSTGRES_PASSWORD'));
    expect(new URL(example.service.get('REDIS_URL') ?? '').hostname).toBe('redis');
  });

  it('when a Compose-only variable is documented, it is one the compose file uses and not a service variable', () => {
    const names = [...example.composeOnly.keys()];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(schemaNames()).not.toContain(name);
      expect(text).toContain(`\${${name}`);
    }
  });
});
