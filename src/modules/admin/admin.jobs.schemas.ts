import { z } from 'zod';
import { INT32_MAX, Instant, int32 } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';

/**
 * A job id as the job platform makes them, `<job name>.<natural key>` (`reminders.deliver.<uuid>.<date>`), or as
 * BullMQ names the runs of a schedule (`repeat:reminders.dispatch:<ms>`): letters, digits and `. _ : -`.
 */
export const JOB_ID_MAX_CHARS = 200;
const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export const JobId = z
  .string()
  .min(1)
  .max(JOB_ID_MAX_CHARS)
  .regex(JOB_ID_PATTERN, { message: 'must be a job id (letters, digits and . _ : -)', abort: true })
  .meta({ example: 'reminders.deliver.3f1c2a54-8e0b-4d5e-9a6f-1b2c3d4e5f60.2026-11-24' });

export const JobIdParams = z.object({
  id: JobId.meta({ description: 'The job id, as the failed-jobs list shows it' }),
});

/** A queue's name as the job definitions write it (`reminders`). */
const QUEUE_NAME_MAX_CHARS = 64;

/** `?queue=` takes the queues the service runs (app.ts passes them from the job definitions), nothing else. */
export function failedJobsQuery(queues: readonly [string, ...string[]]) {
  return PageQuery.extend({
    queue: z.enum(queues).optional().meta({ description: 'Only the failed jobs of this queue' }),
  });
}
export type FailedJobsQuery = z.infer<ReturnType<typeof failedJobsQuery>>;

/** The longest `errorMessage` shown; a declared failure's text is a sentence written by our code. */
export const ERROR_MESSAGE_MAX_CHARS = 500;

/**
 * One failed job as admins see it: where and what it is, how often it ran, and why it failed, without its payload
 * or any raw error text (either could hold personal data).
 */
export const FailedJob = z
  .object({
    id: JobId,
    queue: z.string().max(QUEUE_NAME_MAX_CHARS).meta({ example: 'reminders' }),
    name: z
      .string()
      .max(QUEUE_NAME_MAX_CHARS * 2)
      .meta({ example: 'reminders.deliver' }),
    attempts: int32(0, INT32_MAX).meta({ description: 'Runs made, the failed one included' }),
    errorCode: z.string().max(QUEUE_NAME_MAX_CHARS).meta({
      description:
        'The failure the job declared (`smtp-refused`, `invalid-payload`, `unknown-job`, …), or `error` for an unexpected one',
      example: 'smtp-refused',
    }),
    errorMessage: z.string().max(ERROR_MESSAGE_MAX_CHARS).meta({
      description:
        'What the declared failure says; for `error`, a fixed text: the raw message is only in the worker log',
      example: 'the SMTP server refused the message (550)',
    }),
    failedAt: Instant,
  })
  .meta({ id: 'FailedJob' });
export type FailedJob = z.infer<typeof FailedJob>;

export const FailedJobPage = pageOf(FailedJob);

/** A job put back to waiting: a worker takes it as soon as one is free. */
export const RetriedJob = z
  .object({
    id: JobId,
    state: z.enum(['waiting']).meta({ description: 'The job waits for a worker again' }),
  })
  .meta({ id: 'RetriedJob' });
export type RetriedJob = z.infer<typeof RetriedJob>;
