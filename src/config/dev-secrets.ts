import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Secrets a development machine generates for itself on first run; production must be given them. */
export const DEV_SECRET_NAMES = [
  'HEALTH_TOKEN',
  'JWT_SECRET',
  'CSRF_SECRET',
  'EMAIL_HASH_KEY',
  'FIELD_ENCRYPTION_KEYS',
  'VAPID_PRIVATE_KEY',
] as const;
export type DevSecretName = (typeof DEV_SECRET_NAMES)[number];

/** A fresh value for each secret, in the format its variable takes. */
function generate(name: DevSecretName): string {
  // One AES-256 key under the id `dev`; FIELD_ENCRYPTION_KEY_ID defaults to the only key listed.
  if (name === 'FIELD_ENCRYPTION_KEYS') return `dev:${randomBytes(32).toString('base64')}`;
  // The JWK's `d` keeps all 32 bytes; ECDH#getPrivateKey drops leading zero bytes (once in 256 keys), which web-push
  // then refuses.
  if (name === 'VAPID_PRIVATE_KEY') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return privateKey.export({ format: 'jwk' }).d as string;
  }
  return randomBytes(32).toString('base64url');
}

const DevSecretsFile = z.record(z.string(), z.string());

/**
 * Reads `<dataDir>/dev-secrets.json`, adding any secret it lacks, so a fresh clone needs no configuration and a
 * second start keeps the same values. The file is git-ignored (the whole of `.data/` is) and readable by its owner only.
 */
export function loadDevSecrets(dataDir: string, given: Partial<Record<DevSecretName, string>>) {
  if (DEV_SECRET_NAMES.every((name) => given[name])) return given as Record<DevSecretName, string>;
  const file = path.join(dataDir, 'dev-secrets.json');
  const stored = existsSync(file) ? DevSecretsFile.parse(JSON.parse(readFileSync(file, 'utf8'))) : {};
  const missing = DEV_SECRET_NAMES.filter((name) => !stored[name]);
  for (const name of missing) stored[name] = generate(name);
  if (missing.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return Object.fromEntries(DEV_SECRET_NAMES.map((name) => [name, given[name] ?? (stored[name] as string)])) as Record<
    DevSecretName,
    string
  >;
}
