import type { Db } from '../../platform/db-handle.js';
import { PermanentJobError } from '../../platform/jobs.js';
import {
  emailVerificationMail,
  passwordResetMail,
  type SecurityNotice,
  securityNoticeMail,
} from '../../platform/mail-templates.js';
import { type MailMessage, MailRefusedError } from '../../platform/mailer.js';
import { ACCOUNT_TOKEN_TTL_MINUTES, hashAccountToken, newAccountToken } from './account-tokens.js';
import { insertAccountToken, mailRecipient } from './account-tokens.repo.js';

export interface AccountMailDeps {
  db: Db;
  mailer: { send(message: MailMessage): Promise<string> };
  /** APP_URL: the web app the links open (its `/reset-password` page). */
  appUrl: string;
  now: () => Date;
}

export type AccountMail = ReturnType<typeof createAccountMail>;

/**
 * The worker's side of account email. A reset link's token is made here, when the mail is sent, not by the request
 * that asked for it: the job's payload then holds only a user id, and the token exists nowhere but in the database
 * (as its hash) and in the mail. A retried send makes a new token; the one of the failed attempt simply expires.
 */
export function createAccountMail(deps: AccountMailDeps) {
  const { db, mailer, now } = deps;

  async function send(message: MailMessage) {
    try {
      await mailer.send(message);
    } catch (err) {
      if (err instanceof MailRefusedError) throw new PermanentJobError('mail-refused', err.message);
      throw err;
    }
  }

  return {
    /** Mails a password-reset link; nothing for an account erased or suspended since the request. */
    async sendPasswordReset(userId: string): Promise<void> {
      const user = await mailRecipient(db, userId);
      if (user?.status !== 'active') return;
      const token = newAccountToken();
      const validMinutes = ACCOUNT_TOKEN_TTL_MINUTES.password_reset;
      await insertAccountToken(db, {
        userId,
        purpose: 'password_reset',
        tokenHash: hashAccountToken(token),
        expiresAt: new Date(now().getTime() + validMinutes * 60_000),
      });
      await send({
        to: user.email,
        ...passwordResetMail({ url: appLink(deps.appUrl, 'reset-password', token), validMinutes }),
      });
    },

    /** Mails an email-verification link (24 h); nothing when the address is verified already or the account gone. */
    async sendVerification(userId: string): Promise<void> {
      const user = await mailRecipient(db, userId);
      if (user?.status !== 'active' || user.emailVerifiedAt) return;
      const token = newAccountToken();
      const validMinutes = ACCOUNT_TOKEN_TTL_MINUTES.email_verification;
      await insertAccountToken(db, {
        userId,
        purpose: 'email_verification',
        tokenHash: hashAccountToken(token),
        expiresAt: new Date(now().getTime() + validMinutes * 60_000),
      });
      await send({
        to: user.email,
        ...emailVerificationMail({ url: appLink(deps.appUrl, 'verify-email', token), validMinutes }),
      });
    },

    /** Tells the owner of a security event, at the address the account has now. */
    async sendNotice(userId: string, notice: SecurityNotice, at: Date): Promise<void> {
      const user = await mailRecipient(db, userId);
      if (!user) return;
      await send({ to: user.email, ...securityNoticeMail(notice, at) });
    },
  };
}

/**
 * `<APP_URL>/reset-password#token=…` or `<APP_URL>/verify-email#token=…`. The token rides in the fragment, which browsers never send to a server: it
 * stays out of the web server's access logs, of proxies' logs, and of the `Referer` the page's requests carry. The
 * page reads it with JavaScript and posts it to `POST /auth/password/reset` or `POST /auth/email/verify`.
 */
export function appLink(appUrl: string, page: 'reset-password' | 'verify-email', token: string): string {
  return `${appUrl.replace(/\/+$/, '')}/${page}#token=${token}`;
}
