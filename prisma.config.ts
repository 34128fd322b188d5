import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI downloads a native schema engine on first use, which fails offline (air-gapped CI, locked-down
// Docker builds). It runs whatever executable this variable names instead, so point it at our shim around the
// WebAssembly engine from npm (docs/adr/0001-prisma-offline-schema-engine.md). The CLI resolves the path against
// its working directory, hence an absolute path from this file's location. An explicit setting wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
  new URL('./scripts/prisma-schema-engine.mjs', import.meta.url),
);
// The CLI's update check calls home on every run; offline it only adds latency.
process.env.CHECKPOINT_DISABLE ??= '1';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // Not env('DATABASE_URL'): that throws when the variable is unset, and `postinstall: prisma generate` must work
  // on a fresh clone with nothing configured. Commands that need a database fail loudly on the empty URL.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
