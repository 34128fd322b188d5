import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { API_TYPES_FILE, generateApiTypes, REGENERATE_COMMAND } from './api-types.js';
import { servedDocument } from './clients.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('test/contract/api.d.ts', () => {
  it('when openapi-typescript generates types from the served document, they are the committed ones', async () => {
    const generated = await generateApiTypes(await servedDocument(t));
    // `npm run contract:types` runs this test with CONTRACT_TYPES=write.
    if (process.env.CONTRACT_TYPES === 'write') writeFileSync(API_TYPES_FILE, generated);
    const committed = existsSync(API_TYPES_FILE) ? readFileSync(API_TYPES_FILE, 'utf8') : '';
    if (committed !== generated) {
      const lines = { committed: committed.split('\n'), generated: generated.split('\n') };
      const at = lines.generated.findIndex((line, i) => line !== lines.committed[i]);
      expect.fail(
        `test/contract/api.d.ts is not what the served /openapi.json generates: run \`${REGENERATE_COMMAND}\` and ` +
          `commit the file. First difference, line ${at + 1}:\n` +
          `  committed: ${lines.committed[at] ?? '(end of file)'}\n  generated: ${lines.generated[at] ?? '(end of file)'}`,
      );
    }
  });
});
