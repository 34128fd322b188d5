import type { Db } from '../../platform/db-handle.js';
import { PermanentJobError } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import { reminderDueMail } from '../../platform/mail-templates.js';
import { type MailMessage, MailRefusedError } from '../../platform/mailer.js';
import {
  type DeliveryStatus,
  type DeliveryTarget,
  type DueOccurrence,
  deliveryTarget,
  dueOccurrences,
  recordDelivery,
  reopenFailedDelivery,
} from './reminders.deliveries.repo.js';

/** A push subscription as the delivery sends to it. */
export interface PushTarget {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** What delivery needs of Web Push: the user's subscriptions, sending, and forgetting a dead one. */
export interface PushChannel {
  subscriptionsOf(userId: string): Promise<PushTarget[]>;
  send(target: PushTarget, payload: object): Promise<void>;
  /** True when the push service said the subscription is gone for good (404, 410). */
  isGone(err: unknown): boolean;
  /** True when the push service refused the message for good (a retry would be refused again). */
  isRefused(err: unknown): boolean;
  remove(subscriptionId: string): Promise<void>;
}

export interface ReminderDeliveryDeps {
  db: Db;
  mailer: { send(message: MailMessage): Promise<string> };
  push: PushChannel;
  now: () => Date;
}

export interface AttemptContext {
  attempt: number;
  final: boolean;
  logger: Logger;
}

/** The page size of the dispatcher's scan. */
const PAGE = 500;

export type ReminderDelivery = ReturnType<typeof createReminderDelivery>;

/**
 * Delivers reminders: finds the occurrences whose send time has come, and sends one, by email or Web Push, at most
 * once. "At most once" holds against duplicates and retries because a job is enqueued once per occurrence (its id
 * is the reminder and the date) and a delivery whose outcome is recorded is never sent again. It does not hold
 * against a crash between the send and its record: the retry then sends once more (docs/architecture.md).
 */
export function createReminderDelivery(deps: ReminderDeliveryDeps) {
  const { db, mailer, push, now } = deps;

  async function sendEmail(target: DeliveryTarget): Promise<'sent'> {
    await mailer.send({ to: target.email, ...reminderDueMail(target) });
    return 'sent';
  }

  /**
   * Every subscription of the user gets the push; a dead one (404/410) is removed. Sent when one accepted it (the
   * others are not retried: a retry would repeat it on the device that has it); skipped when there is none; failed
   * for good when every one is gone or refused; otherwise retried.
   */
  async function sendPush(target: DeliveryTarget, reminderId: string, logger: Logger): Promise<'sent' | 'skipped'> {
    const subscriptions = await push.subscriptionsOf(target.userId);
    if (subscriptions.length === 0) return 'skipped';
    const payload = { type: 'reminder', reminderId, title: target.title, dueDate: target.dueDate };
    let sent = 0;
    let gone = 0;
    let failure: unknown;
    for (const subscription of subscriptions) {
      try {
        await push.send(subscription, payload);
        sent += 1;
      } catch (err) {
        if (push.isGone(err)) {
          gone += 1;
          await push.remove(subscription.id);
          logger.info({ subscriptionId: subscription.id }, 'push subscription gone: removed');
        } else if (!push.isRefused(err) || failure === undefined) failure = err;
      }
    }
    if (sent > 0) return 'sent';
    if (gone === subscriptions.length) throw new PermanentJobError('push-gone', 'every push subscription is gone');
    if (push.isRefused(failure)) throw new PermanentJobError('push-refused', 'the push service refused the message');
    throw failure;
  }

  return {
    /** Every due occurrence without a delivery, a page at a time. */
    async *due(): AsyncGenerator<DueOccurrence[]> {
      const at = now();
      let after: string | undefined;
      for (;;) {
        const page = await dueOccurrences(db, at, after, PAGE);
        if (page.length > 0) yield page;
        if (page.length < PAGE) return;
        after = page.at(-1)?.reminderId;
      }
    },

    /** Sends one occurrence unless it is done, gone, completed or moved; records what happened. */
    async deliver({ reminderId, occurrence }: DueOccurrence, ctx: AttemptContext): Promise<void> {
      const target = await deliveryTarget(db, reminderId, occurrence);
      if (!target || target.completed || !target.active || target.dueDate !== occurrence) {
        ctx.logger.info('reminder no longer due for this occurrence: nothing sent');
        return;
      }
      if (target.recorded && target.recorded !== 'retrying') return;

      const record = (status: DeliveryStatus, lastErrorCode: string | null) =>
        recordDelivery(db, {
          reminderId,
          userId: target.userId,
          occurrence,
          channel: target.channel,
          status,
          attempts: ctx.attempt,
          lastErrorCode,
          sentAt: status === 'sent' ? now() : null,
        });
      try {
        const outcome =
          target.channel === 'email' ? await sendEmail(target) : await sendPush(target, reminderId, ctx.logger);
        await record(outcome, outcome === 'skipped' ? 'no-push-subscription' : null);
      } catch (err) {
        const code = errorCode(err, target.channel);
        const permanent = err instanceof PermanentJobError || err instanceof MailRefusedError;
        await record(permanent || ctx.final ? 'failed' : 'retrying', code);
        if (err instanceof MailRefusedError) throw new PermanentJobError(code, err.message);
        throw err;
      }
    },
  };
}

/**
 * What an administrator's retry of a failed delivery job needs first: its `failed` record goes back to `retrying`,
 * else the retried job would find an outcome recorded and send nothing. A delivery is recorded `failed` only when no
 * server or device accepted the message (a refusal, or the last attempt failed with nothing sent), so the retry
 * makes no second message (save the window every retry has: a send whose acknowledgement was lost, see
 * `createReminderDelivery`). A `sent` or `skipped` record is left as it is: the retried job completes, sending nothing.
 */
export function createDeliveryRetries(deps: { db: Db }) {
  return {
    async reopen({ reminderId, occurrence }: DueOccurrence): Promise<void> {
      await reopenFailedDelivery(deps.db, reminderId, occurrence);
    },
  };
}

/** A short code for the delivery record and the failed-jobs list: never a message that could hold personal data. */
function errorCode(err: unknown, channel: 'push' | 'email'): string {
  if (err instanceof PermanentJobError) return err.code;
  if (err instanceof MailRefusedError) return 'smtp-refused';
  return channel === 'email' ? 'smtp-unavailable' : 'push-unavailable';
}
