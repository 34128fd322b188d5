import { z } from 'zod';
import { defineJob } from '../../platform/jobs.js';
import type { BankSync } from './banking.sync.js';

const SyncPayload = z.strictObject({ itemId: z.uuid() });

/**
 * The sync job's identity, for the API that enqueues it. Its id is `banking.sync.<item>.<key>` (the key: `link`, a
 * webhook's, or the minute of a manual request), so a repeated request is one job; two jobs of one item never sync
 * at once all the same, because the sync takes the item's lease in PostgreSQL first (ADR 0019).
 */
export const SYNC_JOB = { name: 'banking.sync', queue: 'banking', payload: SyncPayload, attempts: 5 } as const;

/** The bank jobs; none when bank links are not configured. */
export function bankingJobs(sync: BankSync | undefined, options: { retryDelayMs: number }) {
  const run = defineJob({
    ...SYNC_JOB,
    backoffMs: options.retryDelayMs,
    async run({ itemId }, ctx) {
      if (!sync) return;
      await sync.run(itemId, ctx.logger);
    },
  });
  return { enabled: sync !== undefined, sync: run };
}
