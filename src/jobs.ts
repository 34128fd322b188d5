import type { Config } from './config/config.js';
import { createAuditLog } from './modules/audit/audit.port.js';
import { createAccountMail } from './modules/auth/account-mail.service.js';
import { accountJobs } from './modules/auth/auth.jobs.js';
import { bankingJobs } from './modules/banking/banking.jobs.js';
import { createBankSync } from './modules/banking/banking.sync.js';
import { MAINTENANCE_EVERY_MS, maintenanceJobs } from './modules/maintenance/maintenance.jobs.js';
import { createMaintenance } from './modules/maintenance/maintenance.service.js';
import type { PushService } from './modules/push/push.service.js';
import { createReminderDelivery, type PushChannel } from './modules/reminders/reminders.delivery.service.js';
import { DISPATCH_EVERY_MS, reminderJobs } from './modules/reminders/reminders.jobs.js';
import { billingJobs, RECONCILE_EVERY_MS } from './modules/subscriptions/subscriptions.jobs.js';
import { createBillingReconciler } from './modules/subscriptions/subscriptions.reconciler.js';
import { createFieldCipher } from './platform/crypto.js';
import type { Db } from './platform/db-handle.js';
import { type JobQueues, startJobWorkers } from './platform/jobs.js';
import type { Logger } from './platform/logger.js';
import { createMailer } from './platform/mailer.js';
import type { Metrics } from './platform/metrics.js';
import { createPlaid } from './platform/plaid.js';
import type { ErrorReporter } from './platform/sentry.js';
import type { Telemetry } from './platform/telemetry.js';
import { PushGoneError, PushRefusedError, type PushSender } from './platform/web-push.js';
import { retentionPurges } from './retention.js';

/** The delivery's view of Web Push: the push module's subscriptions and the platform's sender. */
export function createPushChannel(subscriptions: PushService, sender: PushSender): PushChannel {
  return {
    subscriptionsOf: (userId) => subscriptions.subscriptionsOf(userId),
    send: (target, payload) => sender.send(target, payload, { ttlSeconds: PUSH_TTL_SECONDS }),
    isGone: (err) => err instanceof PushGoneError,
    isRefused: (err) => err instanceof PushRefusedError && !(err instanceof PushGoneError),
    remove: (id) => subscriptions.removeGone(id),
  };
}

/** A reminder not delivered to the device within a day (phone off) is no longer worth showing. */
const PUSH_TTL_SECONDS = 24 * 3600;

export interface JobDeps {
  config: Config;
  logger: Logger;
  db: Db;
  queues: JobQueues;
  mailer: { send: ReturnType<typeof createMailer>['send'] };
  push: PushChannel;
  now: () => Date;
}

/**
 * Every job of the service, built with its dependencies (the composition root of work outside a request, as
 * app.ts is of requests), and the schedules the worker keeps.
 */
export function createJobs(deps: JobDeps) {
  const { config, db, queues, mailer, push, now } = deps;
  const reminders = reminderJobs(createReminderDelivery({ db, mailer, push, now }), queues, {
    retryDelayMs: config.jobs.retryDelayMs,
  });
  const account = accountJobs(createAccountMail({ db, mailer, appUrl: config.appUrl, now }), {
    retryDelayMs: config.jobs.retryDelayMs,
  });
  const maintenance = maintenanceJobs(
    createMaintenance({ db, purges: retentionPurges({ auditLogDays: config.audit.retentionDays }), now }),
  );
  const stripe = config.billing.stripe;
  const billing = billingJobs(stripe ? createBillingReconciler({ db, billing: stripe, now }) : undefined);
  const plaid = config.banking.plaid;
  const banking = bankingJobs(
    plaid
      ? createBankSync({
          db,
          plaid: createPlaid(plaid),
          cipher: createFieldCipher(config.fieldEncryption),
          auditLog: createAuditLog(),
          now,
        })
      : undefined,
    { retryDelayMs: config.jobs.retryDelayMs },
  );
  return {
    specs: [
      reminders.dispatch,
      reminders.deliver,
      account.passwordReset,
      account.verification,
      account.notice,
      maintenance.run,
      ...(billing.enabled ? [billing.reconcile] : []),
      ...(banking.enabled ? [banking.sync] : []),
    ],
    reminders,
    account,
    maintenance,
    billing,
    banking,
    /** Creates or updates the schedulers; idempotent, so every worker that starts may call it. */
    async schedule() {
      await queues.schedule(reminders.dispatch, DISPATCH_EVERY_MS, {});
      await queues.schedule(maintenance.run, MAINTENANCE_EVERY_MS, {});
      // Billing turned off: the scheduler goes too, or it would keep enqueuing runs no worker takes.
      if (billing.enabled) await queues.schedule(billing.reconcile, RECONCILE_EVERY_MS, {});
      else await queues.unschedule(billing.reconcile);
    },
  };
}

export interface JobWorkerDeps {
  config: Config & { redis: { url: string } };
  logger: Logger;
  db: Db;
  errors: ErrorReporter;
  metrics: Metrics;
  push: PushChannel;
  queues: JobQueues;
  now?: () => Date;
  /** Present when tracing is on: each job runs in a span. */
  telemetry?: Pick<Telemetry, 'traceJob'> | undefined;
}

/** The job worker as `npm run worker` runs it, and `npm start` in development (in-process). */
export async function startJobWorker(deps: JobWorkerDeps) {
  const { config, logger, metrics, errors } = deps;
  const mailer = createMailer({ ...config.mail, logger });
  const jobs = createJobs({ ...deps, mailer, now: deps.now ?? (() => new Date()) });
  await jobs.schedule();
  const workers = startJobWorkers({
    redisUrl: config.redis.url,
    keyPrefix: config.redis.keyPrefix,
    specs: jobs.specs,
    concurrency: config.jobs.concurrency,
    logger,
    onFinished: (name, seconds, outcome) => metrics.jobFinished(name, seconds, outcome),
    onUnexpected: (err, job) => errors.captureJobError(err, job),
    ...(deps.telemetry ? { trace: deps.telemetry.traceJob } : {}),
  });
  return {
    jobs,
    isRunning: workers.isRunning,
    /** Stops taking jobs and finishes the running ones within `deadlineMs`; true when all finished. */
    async close(deadlineMs: number) {
      const drained = await workers.close(deadlineMs);
      mailer.close();
      return drained;
    },
  };
}
