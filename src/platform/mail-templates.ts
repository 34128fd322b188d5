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

/** The frame every HTML email shares: plain, readable without images or styles. */
function layout(bodyHtml: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mingus</title></head>',
    '<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;max-width:36rem;margin:auto">',
    bodyHtml,
    '<p style="color:#666;font-size:0.85em">You receive this because you asked Mingus to remind you. ',
    'Change or delete the reminder in the app to stop it.</p>',
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
    ),
  };
}
