import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { reminderDueMail } from '../../src/platform/mail-templates.js';
import { createMailer, MailRefusedError } from '../../src/platform/mailer.js';
import { startSmtpServer } from '../support/smtp-server.js';

const logger = createLogger({ level: 'silent' });
const FROM = 'Mingus <no-reply@mingus.test>';
const hostile = {
  title: '<a href="https://evil.test">Pay</a> & "rent"\r\nBcc: victim@example.com',
  dueDate: '2026-12-01',
};

describe('email over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());

  it('arrives with the subject, both bodies and the sender, user text escaped in the HTML', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: '/nonexistent', logger });
    try {
      await mailer.send({ to: 'ada@example.com', ...reminderDueMail(hostile) });
    } finally {
      mailer.close();
    }
    const mail = smtp.received.at(-1);
    expect(mail?.from?.text).toBe('"Mingus" <no-reply@mingus.test>');
    expect(mail?.subject).toBe('Reminder: <a href="https://evil.test">Pay</a> & "rent" Bcc: victim@example.com');
    expect(mail?.bcc).toBeUndefined();
    expect(mail?.text).toContain('"<a href="https://evil.test">Pay</a> & "rent"');
    expect(mail?.html).toContain('&lt;a href=&quot;https://evil.test&quot;&gt;Pay&lt;/a&gt; &amp; &quot;rent&quot;');
    expect(mail?.html).not.toContain('<a href="https://evil.test">');
  });

  it('when messages follow one another, they share one pooled connection instead of opening one each', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: '/nonexistent', logger });
    const before = smtp.connections.opened;
    try {
      for (let i = 0; i < 10; i++) await mailer.send({ to: `ada${i}@example.com`, ...reminderDueMail(hostile) });
    } finally {
      mailer.close();
    }
    expect(smtp.connections.opened - before).toBe(1);
  });

  it('when SMTP_URL carries credentials, they log in percent-decoded', async () => {
    const url = new URL(smtp.url);
    url.username = 'mingus%40example.com';
    url.password = 'p%3Ass%2Fw%40rd';
    const mailer = createMailer({ smtpUrl: url.href, from: FROM, outboxDir: '/nonexistent', logger });
    try {
      await mailer.send({ to: 'ada@example.com', ...reminderDueMail(hostile) });
    } finally {
      mailer.close();
    }
    expect(smtp.logins.at(-1)).toEqual({ username: 'mingus@example.com', password: 'p:ss/w@rd' });
  });

  it('a 5xx refusal is a MailRefusedError (not worth retrying); a 4xx deferral is not', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: '/nonexistent', logger });
    try {
      smtp.refuse(550);
      const refused = await mailer.send({ to: 'gone@example.com', ...reminderDueMail(hostile) }).catch((e) => e);
      expect(refused).toBeInstanceOf(MailRefusedError);
      expect(refused.responseCode).toBe(550);
      smtp.refuse(451);
      const deferred = await mailer.send({ to: 'later@example.com', ...reminderDueMail(hostile) }).catch((e) => e);
      expect(deferred).toBeInstanceOf(Error);
      expect(deferred).not.toBeInstanceOf(MailRefusedError);
    } finally {
      smtp.accept();
      mailer.close();
    }
  });
});

describe('email without SMTP_URL (development)', () => {
  it('is written to the outbox as an .eml file, with one log line naming it', async () => {
    const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'mingus-outbox-'));
    const lines: string[] = [];
    const mailer = createMailer({
      smtpUrl: undefined,
      from: FROM,
      outboxDir,
      logger: createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } }),
    });
    try {
      await mailer.send({ to: 'ada@example.com', ...reminderDueMail({ title: 'Pay rent', dueDate: '2026-12-01' }) });
      const files = await readdir(outboxDir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      const mail = await simpleParser(await readFile(path.join(outboxDir, files[0] as string)));
      expect(mail.subject).toBe('Reminder: Pay rent');
      expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('ada@example.com');
      const logged = lines.map((l) => JSON.parse(l));
      expect(logged).toHaveLength(1);
      expect(logged[0].file).toContain(files[0]);
    } finally {
      mailer.close();
      await rm(outboxDir, { recursive: true, force: true });
    }
  });
});
