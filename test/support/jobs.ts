import type { Config } from '../../src/config/config.js';
import { createPushChannel, startJobWorker } from '../../src/jobs.js';
import { createAuditLog } from '../../src/modules/audit/audit.port.js';
import { createPushService } from '../../src/modules/push/push.service.js';
import { createFieldCipher } from '../../src/platform/crypto.js';
import { createJobQueues } from '../../src/platform/jobs.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetrics } from '../../src/platform/metrics.js';
import { disabledErrorReporter } from '../../src/platform/sentry.js';
import { createPushSender } from '../../src/platform/web-push.js';
import type { TestApp } from './app.js';

export interface TestJobsOptions {
  /** SMTP server the mailer sends to (test/support/smtp-server.ts); absent: an address where nothing listens. */
  smtpUrl?: string;
  /** The jobs' clock: which occurrences are due. */
  now: () => Date;
  /** The first retry's delay; short, so a retry happens within the test. */
  retryDelayMs?: number;
  /** An https.Agent trusting the test push service's certificate. */
  pushAgent?: import('node:https').Agent;
  /** The worker's configuration from the test app's (billing turned off, say); same database and Redis keys. */
  config?: (config: Config) => Config;
}

/** Where nothing listens: jobs that send no mail need no SMTP server. */
const NO_SMTP = 'smtp://127.0.0.1:1';

/**
 * The job worker as `npm run worker` builds it, in this process, on the test app's database and Redis keys: real
 * queues, real mailer, real push sender. `close()` drains it.
 */
export async function startTestJobs(t: TestApp, options: TestJobsOptions) {
  const redisUrl = t.config.redis.url;
  if (!redisUrl) throw new Error('the job tests need Redis');
  const base: Config = {
    ...t.config,
    mail: { ...t.config.mail, smtpUrl: options.smtpUrl ?? NO_SMTP },
    jobs: { ...t.config.jobs, retryDelayMs: options.retryDelayMs ?? 50 },
  };
  const config = options.config ? options.config(base) : base;
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => logLines.push(l) } });
  const queues = createJobQueues({ redisUrl, keyPrefix: config.redis.keyPrefix });
  const push = createPushChannel(
    createPushService({
      db: t.db,
      auditLog: createAuditLog(),
      cipher: createFieldCipher(config.fieldEncryption),
      publicKey: config.push.publicKey,
      publicEndpointsOnly: false,
      now: options.now,
    }),
    createPushSender({ ...config.push, ...(options.pushAgent ? { agent: options.pushAgent } : {}) }),
  );
  const worker = await startJobWorker({
    config: { ...config, redis: { ...config.redis, url: redisUrl } },
    logger,
    db: t.db,
    errors: disabledErrorReporter,
    metrics: createMetrics({ poolStats: t.db.poolStats, jobCounts: () => queues.counts() }),
    push,
    queues,
    now: options.now,
  });
  return {
    queues,
    jobs: worker.jobs,
    /** Enqueues one dispatch now (what the scheduler does every minute), under a key of its own. */
    async dispatch(key = `${Date.now()}-${Math.random()}`) {
      await queues.enqueue(worker.jobs.reminders.dispatch, {}, key);
    },
    logs: () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await worker.close(5_000);
      await queues.close();
    },
  };
}
