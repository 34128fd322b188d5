import { z } from 'zod';
import { defineJob, type JobQueues } from '../../platform/jobs.js';
import type { ReminderDelivery } from './reminders.delivery.service.js';

const DeliverPayload = z.strictObject({
  reminderId: z.uuid(),
  occurrence: z.iso.date(),
});

/** The delivery job's identity, for whoever finds or removes its jobs without running them (erasure, admin). */
export const DELIVER_JOB = { name: 'reminders.deliver', queue: 'reminders', payload: DeliverPayload } as const;

/** The queues the reminder jobs run on, for whoever lists their jobs without running them (the admin's failed jobs). */
export const REMINDER_QUEUES = [DELIVER_JOB.queue] as const;

/** Every minute: time zones with half- and quarter-hour offsets still get their reminder within the minute. */
export const DISPATCH_EVERY_MS = 60_000;

export interface ReminderJobsOptions {
  /** The first retry's delay; each next doubles it (JOB_RETRY_DELAY_MS). */
  retryDelayMs: number;
}

/**
 * The reminder jobs: `reminders.dispatch` runs every minute and enqueues one `reminders.deliver` per due occurrence
 * (job id: the reminder and the date, so a second dispatch of the same occurrence is a no-op); `reminders.deliver`
 * sends it, five attempts with exponential backoff.
 */
export function reminderJobs(delivery: ReminderDelivery, queues: JobQueues, options: ReminderJobsOptions) {
  const deliver = defineJob({
    ...DELIVER_JOB,
    attempts: 5,
    backoffMs: options.retryDelayMs,
    run: (occurrence, ctx) => delivery.deliver(occurrence, ctx),
  });
  const dispatch = defineJob({
    name: 'reminders.dispatch',
    queue: 'reminders',
    payload: z.strictObject({}),
    attempts: 1,
    async run(_payload, ctx) {
      let enqueued = 0;
      for await (const page of delivery.due()) {
        await queues.enqueueMany(
          deliver,
          page.map((o) => ({ payload: o, key: `${o.reminderId}.${o.occurrence}` })),
        );
        enqueued += page.length;
      }
      if (enqueued > 0) ctx.logger.info({ occurrences: enqueued }, 'due reminders enqueued');
    },
  });
  return { deliver, dispatch };
}
