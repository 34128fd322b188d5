import { spawnSync } from 'node:child_process';
import path from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { ROOT } from '../support/app.js';

/** The committed types the journeys import; `npm run contract:types` rewrites them from the served document. */
export const API_TYPES_FILE = path.join(ROOT, 'test/contract/api.d.ts');
export const REGENERATE_COMMAND = 'npm run contract:types';

/**
 * The TypeScript that openapi-typescript makes of `document`, formatted by the project's Biome (as `npm run lint`
 * checks it), so the committed file is byte for byte what this returns.
 */
export async function generateApiTypes(document: unknown): Promise<string> {
  // defaultNonNullable off: a body field with a `default` may be left out by the client (the server fills it in);
  // the generator's default would make every such field required.
  const ast = await openapiTS(document as OpenAPI3, { silent: true, defaultNonNullable: false });
  const source = `${COMMENT_HEADER}${astToString(ast)}`;
  const biome = spawnSync(
    path.join(ROOT, 'node_modules/.bin/biome'),
    ['format', `--stdin-file-path=${API_TYPES_FILE}`],
    { cwd: ROOT, input: source, encoding: 'utf8' },
  );
  if (biome.status !== 0) throw new Error(`biome format failed: ${biome.stderr}`);
  return biome.stdout;
}
