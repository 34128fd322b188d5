import type { MailMessage } from './mailer.js';

/**
 * Every email the service sends, in one place: a subject, a plain-text body and an HTML body each. User text (a
 * reminder's title) enters HTML only through `html`, which escapes every interpolated value, so it can never become
 * markup or a link; subjects lose line breaks (nodemailer also refuses header injection).
 */

export type MailContent = Omit<MailMessage, 'to'>;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: string | number) => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

/** A template literal for HTML whose interpolated values are escaped. */
function html(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? escapeHtml(values[i] as string) : ''), '');
}

const subjectLine = (text: string) => text.replace(/[\r\n]+/g, ' ').trim();

const REMINDER_FOOTER =
  'You receive this because you asked Mingus to remind you. Change or delete the reminder in the app to stop it.';
const ACCOUNT_FOOTER = 'You receive this because it concerns your Mingus account; it cannot be turned off.';

/** The frame every HTML email shares: plain, readable without images or styles. */
function layout(bodyHtml: string, footer: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mingus</title></head>',
    '<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;max-width:36rem;margin:auto">',
    bodyHtml,
    html`<p style="color:#666;font-size:0.85em">${footer}</p>`,
    '</body></html>',
  ].join('');
}

/** "Pay rent" is due on 2026-12-01. */
export function reminderDueMail(reminder: { title: string; dueDate: string }): MailContent {
  return {
    subject: subjectLine(`Reminder: ${reminder.title}`),
    text: `Your reminder "${reminder.title}" is due on ${reminder.dueDate}.\n\nMark it done in Mingus once it is taken care of.\n`,
    html: layout(
      html`<p>Your reminder <strong>${reminder.title}</strong> is due on ${reminder.dueDate}.</p>` +
        '<p>Mark it done in Mingus once it is taken care of.</p>',
      REMINDER_FOOTER,
    ),
  };
}

/** The link of a password-reset email: where it points and how long it is good for. */
export interface ResetLink {
  url: string;
  validMinutes: number;
}

export function passwordResetMail(link: ResetLink): MailContent {
  return {
    subject: 'Reset your Mingus password',
    text:
      `Someone (we hope you) asked to reset the password of your Mingus account.\n\n` +
      `Choose a new password here within ${link.validMinutes} minutes; the link works once:\n${link.url}\n\n` +
      'If it was not you, ignore this email: your password stays as it is. Choosing a new one signs every ' +
      'device out and revokes every API key.\n\n' +
      ACCOUNT_FOOTER +
      '\n',
    html: layout(
      '<p>Someone (we hope you) asked to reset the password of your Mingus account.</p>' +
        html`<p><a href="${link.url}">Choose a new password</a> within ${link.validMinutes} minutes; the link works once.</p>` +
        '<p>If it was not you, ignore this email: your password stays as it is. Choosing a new one signs every ' +
        'device out and revokes every API key.</p>',
      ACCOUNT_FOOTER,
    ),
  };
}

export function emailVerificationMail(link: ResetLink): MailContent {
  return {
    subject: 'Confirm your email address for Mingus',
    text:
      'Confirm that this address is yours to finish setting up your Mingus account.\n\n' +
      `Open this link within ${Math.round(link.validMinutes / 60)} hours; it works once:\n${link.url}\n\n` +
      'If you did not create a Mingus account, ignore this email.\n\n' +
      ACCOUNT_FOOTER +
      '\n',
    html: layout(
      '<p>Confirm that this address is yours to finish setting up your Mingus account.</p>' +
        html`<p><a href="${link.url}">Confirm my address</a> within ${Math.round(link.validMinutes / 60)} hours; the link works once.</p>` +
        '<p>If you did not create a Mingus account, ignore this email.</p>',
      ACCOUNT_FOOTER,
    ),
  };
}

/** The security events an account's owner is told of by email. */
export type SecurityNotice = 'password-reset' | 'password-changed';

const NOTICES: Record<SecurityNotice, { subject: string; what: string }> = {
  'password-reset': {
    subject: 'Your Mingus password was reset',
    what: 'The password of your Mingus account was reset with a link sent to this address. Every device was signed out and every API key revoked.',
  },
  'password-changed': {
    subject: 'Your Mingus password was changed',
    what: 'The password of your Mingus account was changed. Every other device was signed out and every API key revoked.',
  },
};

/** A notice of a security event on the account, at `at` (UTC). */
export function securityNoticeMail(notice: SecurityNotice, at: Date): MailContent {
  const { subject, what } = NOTICES[notice];
  const when = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const advice =
    'If this was not you, reset your password now from the sign-in page ("Forgot password") and review your ' +
    'API keys; if you cannot, contact support.';
  return {
    subject,
    text: `${what}\n\nWhen: ${when}\n\n${advice}\n\n${ACCOUNT_FOOTER}\n`,
    html: layout(html`<p>${what}</p><p>When: ${when}</p><p>${advice}</p>`, ACCOUNT_FOOTER),
  };
}
