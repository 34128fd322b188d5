import { parseArgs } from 'node:util';
import { createBillingReconciler } from '../modules/subscriptions/subscriptions.reconciler.js';
import { CliFailure, cliLogger, openCliDatabase, readCliConfig, runCli } from './cli-database.js';

/**
 * `npm run billing:reconcile` (production image: `node dist/cli/billing-reconcile.js`): the walk the worker's hourly
 * `billing.reconcile` job runs, on demand. Walks Stripe's subscriptions and repairs the local rows that drifted from
 * them (missed webhooks), printing one line per repaired row and a summary. Safe to run at any time, while the API
 * and the worker run, and as often as wanted (a second run repairs nothing). Exit codes: 0 done, 1 failed or billing
 * not configured, 2 usage.
 */

const USAGE = 'usage: billing-reconcile\n';

const say = (line: string) => process.stdout.write(`${line}\n`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function main(): Promise<number> {
  try {
    const { values } = parseArgs({ options: { help: { type: 'boolean' } }, strict: true });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const config = readCliConfig();
  const billing = config.billing.stripe;
  if (!billing) throw new CliFailure('billing is not configured (STRIPE_SECRET_KEY is unset): nothing to reconcile');
  const logger = cliLogger();
  const { db, close } = await openCliDatabase(config, logger);
  try {
    const report = await createBillingReconciler({ db, billing, now: () => new Date() }).run(logger);
    for (const row of report.repaired) {
      say(`repaired ${row.stripeSubscriptionId} (user ${row.userId}): ${row.changes.join(', ')}`);
    }
    const skipped = report.skipped > 0 ? `; ${report.skipped} skipped (no local account, or a newer webhook)` : '';
    say(
      `checked ${plural(report.checked, 'Stripe subscription')}; ` +
        `repaired ${plural(report.repaired.length, 'local row')}${skipped}`,
    );
    return 0;
  } finally {
    await close();
  }
}

runCli('billing-reconcile', main);
