import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export interface EnvWithFile {
  /** The process environment, completed by `.env` when it was read. */
  env: NodeJS.ProcessEnv;
  /** The `.env` that was read, if any. */
  file: string | undefined;
  /** Variables whose value came from the file (the environment had none), to say where a bad value was set. */
  fromFile: ReadonlySet<string>;
  problems: string[];
}

/**
 * Local overrides for development: `<rootDir>/.env`, read only when NODE_ENV is unset or `development`. Production
 * never reads it (its settings come from the environment: Kubernetes, Compose), and neither do tests, which must not
 * depend on a developer's file. The environment wins over the file. A file that sets NODE_ENV to anything else is
 * Docker Compose's production settings (`.env.production.example` copied), not overrides: with NODE_ENV=development
 * in the environment it is left unread, and a start that names no mode is refused rather than guess, since running
 * development with production's settings, or production without them, would both be wrong. scripts/pg-tools.mjs
 * applies the same rule for the database scripts.
 */
export function withEnvFile(processEnv: NodeJS.ProcessEnv, rootDir: string): EnvWithFile {
  const none = { env: processEnv, file: undefined, fromFile: new Set<string>(), problems: [] };
  if ((processEnv.NODE_ENV ?? 'development') !== 'development') return none;
  const file = path.join(rootDir, '.env');
  if (!existsSync(file)) return none;

  const values = parseEnv(readFileSync(file, 'utf8'));
  if (values.NODE_ENV !== undefined && values.NODE_ENV !== 'development') {
    if (processEnv.NODE_ENV === 'development') return none;
    return {
      ...none,
      problems: [
        `NODE_ENV: ${file} sets it to "${values.NODE_ENV}", but .env holds development overrides only and is ` +
          'never read in production. Remove that line; or, if the file is Docker Compose settings, set NODE_ENV ' +
          'in the environment: development then leaves the file unread (docs/configuration.md)',
      ],
    };
  }
  const fromFile = new Set(Object.keys(values).filter((name) => processEnv[name] === undefined));
  return { env: { ...values, ...processEnv }, file, fromFile, problems: [] };
}
