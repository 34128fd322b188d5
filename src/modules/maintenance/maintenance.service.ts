import type { Queryable } from '../../platform/db-handle.js';

/** One kind of record past its retention, deleted a batch at a time. */
export interface Purge {
  /** The table it deletes from. */
  table: string;
  /** What it deletes, as the report says it: `entries older than 90 days`. */
  what: string;
  /** Deletes one batch of at most `size` past its retention at `now`; answers the rows deleted (0: nothing is left). */
  batch(db: Queryable, size: number, now: Date): Promise<number>;
}

export interface PurgeResult {
  table: string;
  what: string;
  purged: number;
}

/** Rows per statement: small enough that no statement holds its locks for long while the API runs. */
export const DEFAULT_BATCH_SIZE = 5_000;

export type Maintenance = ReturnType<typeof createMaintenance>;

/**
 * The housekeeping `npm run maintenance` and the `maintenance.run` job both run: every purge to its end, in batches,
 * each batch its own short statement. Idempotent: a rerun, or a run after one interrupted half-way, is safe.
 */
export function createMaintenance(deps: { db: Queryable; purges: readonly Purge[]; now: () => Date }) {
  return {
    /** Runs every purge in turn; `onPurged` hears of each as it finishes. */
    async run(options: { batchSize: number; onPurged?: (result: PurgeResult) => void }): Promise<PurgeResult[]> {
      const results: PurgeResult[] = [];
      // One instant for the whole run, the service's clock rather than the database's: a run judges every record alike.
      const at = deps.now();
      for (const purge of deps.purges) {
        let purged = 0;
        let deleted: number;
        do {
          deleted = await purge.batch(deps.db, options.batchSize, at);
          purged += deleted;
        } while (deleted > 0);
        const result = { table: purge.table, what: purge.what, purged };
        options.onPurged?.(result);
        results.push(result);
      }
      return results;
    },
  };
}
