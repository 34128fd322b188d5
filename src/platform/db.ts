import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';

export type Database = ReturnType<typeof createDatabase>;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  logger: Logger;
}

/**
 * One pg pool shared by Prisma (through the driver adapter) and by the few raw queries the platform runs itself
 * (health pings, migration checks), so pool usage reported by /health/detailed is the whole truth.
 */
export function createDatabase({ url, poolMax, logger }: DatabaseOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // A request waiting for a connection longer than this is better answered with an error than left hanging.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'mingus-api',
  });
  // An idle client losing its connection emits here; unhandled, it would crash the process.
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });

  return {
    pool,
    prisma,
    async ping(timeoutMs: number): Promise<void> {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'postgresql');
    },
    poolStats() {
      return { max: poolMax, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    async close(): Promise<void> {
      await prisma.$disconnect();
      if (!pool.ended) await pool.end();
    },
  };
}
