import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UnavailableError } from '../../http/errors.js';
import { defineJob, type JobQueues } from '../../platform/jobs.js';
import type { SecurityNotice } from '../../platform/mail-templates.js';
import type { AccountMail } from './account-mail.service.js';

const PasswordResetPayload = z.strictObject({ userId: z.uuid() });
const NoticePayload = z.strictObject({
  userId: z.uuid(),
  notice: z.enum(['password-reset', 'password-changed']),
  at: z.iso.datetime(),
});

/** The jobs' identities, for the API that enqueues them without running them. Payloads hold ids, never an address. */
export const PASSWORD_RESET_MAIL_JOB = {
  name: 'account.password-reset-mail',
  queue: 'account',
  payload: PasswordResetPayload,
  attempts: 5,
} as const;
export const VERIFICATION_MAIL_JOB = {
  name: 'account.verification-mail',
  queue: 'account',
  payload: PasswordResetPayload,
  attempts: 5,
} as const;
export const SECURITY_NOTICE_JOB = {
  name: 'account.security-notice',
  queue: 'account',
  payload: NoticePayload,
  attempts: 5,
} as const;

/** The queues of account mail, for whoever lists their jobs (the admin's failed jobs). */
export const ACCOUNT_QUEUES = [PASSWORD_RESET_MAIL_JOB.queue] as const;

/**
 * Account mail: a password-reset link, and the notices of security events. Five attempts with exponential backoff;
 * an SMTP refusal (5xx) fails at once.
 */
export function accountJobs(mail: AccountMail, options: { retryDelayMs: number }) {
  const passwordReset = defineJob({
    ...PASSWORD_RESET_MAIL_JOB,
    backoffMs: options.retryDelayMs,
    run: ({ userId }) => mail.sendPasswordReset(userId),
  });
  const notice = defineJob({
    ...SECURITY_NOTICE_JOB,
    backoffMs: options.retryDelayMs,
    run: ({ userId, notice: kind, at }) => mail.sendNotice(userId, kind, new Date(at)),
  });
  const verification = defineJob({
    ...VERIFICATION_MAIL_JOB,
    backoffMs: options.retryDelayMs,
    run: ({ userId }) => mail.sendVerification(userId),
  });
  return { passwordReset, verification, notice };
}

/** What the auth service asks of the mail jobs: it enqueues, the worker sends. */
export interface AccountMailQueue {
  passwordReset(userId: string): Promise<void>;
  verification(userId: string): Promise<void>;
  notice(userId: string, notice: SecurityNotice, at: Date): Promise<void>;
}

/**
 * The API's producer of account mail: one job per request (a random key), so two requests are two mails. Without a
 * queue (development without REDIS_URL) it refuses with `jobs-unavailable`.
 */
export function accountMailQueue(queues: JobQueues | undefined, retryDelayMs: number): AccountMailQueue {
  const need = () => {
    if (!queues) throw new UnavailableError('jobs-unavailable', 'Email cannot be sent: no job queue (REDIS_URL)');
    return queues;
  };
  return {
    async passwordReset(userId) {
      await need().enqueue({ ...PASSWORD_RESET_MAIL_JOB, backoffMs: retryDelayMs }, { userId }, randomUUID());
    },
    async verification(userId) {
      await need().enqueue({ ...VERIFICATION_MAIL_JOB, backoffMs: retryDelayMs }, { userId }, randomUUID());
    },
    async notice(userId, notice, at) {
      await need().enqueue(
        { ...SECURITY_NOTICE_JOB, backoffMs: retryDelayMs },
        { userId, notice, at: at.toISOString() },
        randomUUID(),
      );
    },
  };
}
