import { z } from 'zod';
import { defineJob } from '../../platform/jobs.js';
import { DEFAULT_BATCH_SIZE, type Maintenance } from './maintenance.service.js';

/** The job's identity, for whoever lists its jobs without running them (the admin's failed jobs). */
export const MAINTENANCE_JOB = { name: 'maintenance.run', queue: 'maintenance', payload: z.strictObject({}) } as const;

/** Daily: retention is counted in days, and a purge that waits a day more keeps nothing past what the policy allows. */
export const MAINTENANCE_EVERY_MS = 24 * 60 * 60_000;

/**
 * `maintenance.run`: the purges of `npm run maintenance`, from a scheduler the worker keeps in Redis (one schedule
 * however many workers run). One attempt: the purges are idempotent, so a failed run is simply caught up by the next.
 */
export function maintenanceJobs(maintenance: Maintenance) {
  const run = defineJob({
    ...MAINTENANCE_JOB,
    attempts: 1,
    async run(_payload, ctx) {
      await maintenance.run({
        batchSize: DEFAULT_BATCH_SIZE,
        onPurged: ({ table, what, purged }) =>
          ctx.logger.info({ table, purged, what }, 'records past retention purged'),
      });
    },
  });
  return { run };
}
