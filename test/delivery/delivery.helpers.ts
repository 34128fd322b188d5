import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { type Config, loadConfig } from '../../src/config/config.js';
import { EnvSchema } from '../../src/config/env.schema.js';
import { probeRoutes } from '../../src/modules/health/health.routes.js';
import { createHealthService } from '../../src/modules/health/health.service.js';
import { createLifecycle } from '../../src/platform/lifecycle.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export const readRepoFile = (relative: string) => readFileSync(path.join(ROOT, relative), 'utf8');

/** Every variable the service reads, from the schema itself (other work adds variables: never a copy of the list). */
export const schemaNames = () => Object.keys(EnvSchema.shape).sort();

/**
 * The probe paths the processes serve, from the probes' own route table: what src/app.ts mounts for the API, and
 * src/worker-process.ts for the worker on WORKER_PORT.
 */
export function servedProbePaths(): string[] {
  const health = createHealthService({
    lifecycle: createLifecycle(),
    version: 'test',
    checks: { postgres: async () => {} },
    poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }),
  });
  try {
    return probeRoutes(health)
      .routes.filter((r) => r.method === 'get')
      .map((r) => r.path);
  } finally {
    health.close();
  }
}

/** A secret production accepts: random, long enough, no placeholder words. */
export const strongSecret = () => randomBytes(48).toString('base64url');

/** Loads a configuration the way src/main.ts does, in a scratch directory (no .data/ of the repository). */
export const loadFrom = (env: Record<string, string | undefined>): Config =>
  loadConfig(env, { rootDir: mkdtempSync(path.join(tmpdir(), 'mingus-delivery-')), packageVersion: '0.0.0-test' });

/** The problems `loadConfig` lists for `env`, or [] when it loads. */
export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadFrom(env);
    return [];
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    if (!Array.isArray(problems)) throw err;
    return problems as string[];
  }
}

/** A KEY=value file read by Node's own dotenv parser; keys in file order. */
export function readEnvFile(text: string): Map<string, string> {
  const parsed = parseEnv(text);
  const keys = [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1] as string);
  return new Map(keys.map((k) => [k, parsed[k] ?? '']));
}

export const COMPOSE_ONLY_MARKER = /^# --- Docker Compose only\b.*$/m;

/** `.env.production.example`, split into the service's variables and the Compose-only ones after the marker. */
export function productionExample() {
  const text = readRepoFile('.env.production.example');
  const marker = COMPOSE_ONLY_MARKER.exec(text);
  const at = marker ? marker.index : text.length;
  return { text, service: readEnvFile(text.slice(0, at)), composeOnly: readEnvFile(text.slice(at)) };
}

/** A URL (scheme://…) rather than a bare secret. */
export const isUrl = (value: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

/**
 * A VAPID private key as `npx web-push generate-vapid-keys` prints it: a P-256 private key, all 32 bytes in base64url.
 * (The JWK's `d` keeps leading zero bytes, which `ECDH.getPrivateKey()` drops once in 256 keys.)
 */
export function vapidPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }).d as string;
}

/** Replaces every bare `replace-me` placeholder with a real-looking secret; URLs stay as they are. */
export function withRealSecrets(env: Map<string, string>): Record<string, string> {
  return Object.fromEntries(
    [...env].map(([k, v]) => {
      if (!/replace-me/i.test(v)) return [k, v] as const;
      // A key pair's private half, not any random string.
      if (k === 'VAPID_PRIVATE_KEY') return [k, vapidPrivateKey()] as const;
      // A key list keeps its id:base64 shape with a real 32-byte key.
      if (/^[\w-]+:replace-me/i.test(v))
        return [k, `${v.split(':')[0]}:${randomBytes(32).toString('base64')}`] as const;
      // A URL keeps its shape; only the placeholder password inside it is replaced (production refuses both).
      return [k, isUrl(v) ? v.replace(/replace-me[\w-]*/gi, randomBytes(24).toString('hex')) : strongSecret()] as const;
    }),
  );
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
  file: string;
}

/** Every object of every YAML file in deploy/k8s/, parse errors included as failures. */
export function k8sObjects(): K8sObject[] {
  const dir = path.join(ROOT, 'deploy/k8s');
  const out: K8sObject[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const value = doc.toJS() as Omit<K8sObject, 'file'> | null;
      if (value) out.push({ ...value, file });
    }
  }
  return out;
}

export interface DockerInstruction {
  keyword: string;
  args: string;
  line: number;
}

/** Dockerfile instructions, continuation lines joined and comments dropped; split into stages at each FROM. */
export function dockerStages(text: string): DockerInstruction[][] {
  const instructions: DockerInstruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*#/.test(raw)) return;
    if (pending === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      pending += `${raw.replace(/\\\s*$/, '')} `;
      return;
    }
    const line = `${pending}${raw}`.trim();
    pending = '';
    if (line === '') return;
    const keyword = line.split(/\s/, 1)[0] ?? '';
    instructions.push({ keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim(), line: start });
  });
  const stages: DockerInstruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}
