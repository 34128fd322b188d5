import { createMaintenance, DEFAULT_BATCH_SIZE } from '../modules/maintenance/maintenance.service.js';
import { retentionPurges } from '../retention.js';
import { cliLogger, openCliDatabase, readBatchSize, readCliConfig, runCli } from './cli-database.js';

/**
 * `npm run maintenance` (production image: `node dist/cli/maintenance.js`): the purges the worker's daily
 * `maintenance.run` job runs (src/retention.ts), on demand: audit entries past AUDIT_LOG_RETENTION_DAYS, expired
 * idempotency records, Stripe event records past any redelivery, and the refresh tokens of sessions that expired or
 * were revoked long ago. Each purge deletes in small batches, each its own short statement, so no lock is held for
 * long while the API runs; a rerun, or a run interrupted half-way, is safe. Prints one line per purge.
 * Exit codes: 0 done, 1 failed, 2 usage.
 */

const USAGE = 'usage: maintenance [--batch-size <1-50000>]\n';

runCli('maintenance', async () => {
  const batchSize = readBatchSize(USAGE, { fallback: DEFAULT_BATCH_SIZE, max: 50_000 });
  if (batchSize === undefined) return 0;
  const config = readCliConfig();
  const { db, close } = await openCliDatabase(config, cliLogger());
  try {
    await createMaintenance({
      db,
      purges: retentionPurges({ auditLogDays: config.audit.retentionDays }),
      now: () => new Date(),
    }).run({
      batchSize,
      onPurged: ({ table, what, purged }) => process.stdout.write(`${table}: ${purged} purged (${what})\n`),
    });
  } finally {
    await close();
  }
  return 0;
});
