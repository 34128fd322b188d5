import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from './logger.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailerOptions {
  /** `smtp://` or `smtps://`, with credentials; absent in development: messages go to `outboxDir`. */
  smtpUrl: string | undefined;
  /** `Mingus <no-reply@example.com>` or a bare address. */
  from: string;
  /** Where development writes each message as an .eml file. */
  outboxDir: string;
  logger: Logger;
}

/**
 * The SMTP server refused the message for good (a 5xx: unknown mailbox, policy): sending it again changes nothing.
 * Anything else (connection refused, timeout, a 4xx) is worth a retry.
 */
export class MailRefusedError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'MailRefusedError';
  }
}

export type Mailer = ReturnType<typeof createMailer>;

/**
 * Sends email over one pooled SMTP transport (nodemailer): connections are reused across messages, which is most of
 * the cost of sending. Without `smtpUrl` (development), each message is written to the outbox as an .eml file that
 * any mail client opens, with one log line naming it.
 */
export function createMailer({ smtpUrl, from, outboxDir, logger }: MailerOptions) {
  const transport = smtpUrl
    ? nodemailer.createTransport({
        ...connectionOf(smtpUrl),
        pool: true,
        maxConnections: 5,
        // A stuck server must fail the job (and retry later), not hold a worker slot for minutes.
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      } as Parameters<typeof nodemailer.createTransport>[0])
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  async function toOutbox(message: MailMessage): Promise<string> {
    const info = await transport.sendMail({ from, ...message });
    await mkdir(outboxDir, { recursive: true });
    const file = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`);
    await writeFile(file, (info as unknown as { message: Buffer }).message);
    logger.info({ file: path.relative(process.cwd(), file) }, 'email written to the outbox (SMTP_URL is not set)');
    return info.messageId;
  }

  return {
    /** Resolves with the message id once the server accepted the message. */
    async send(message: MailMessage): Promise<string> {
      if (!smtpUrl) return toOutbox(message);
      try {
        const info = await transport.sendMail({ from, ...message });
        return info.messageId;
      } catch (err) {
        const { responseCode } = err as { responseCode?: unknown };
        if (typeof responseCode === 'number' && responseCode >= 500)
          throw new MailRefusedError(responseCode, `the SMTP server refused the message (${responseCode})`);
        throw err;
      }
    },
    close() {
      transport.close();
    },
  };
}

/**
 * The server and credentials of an `smtp://` or `smtps://` URL as nodemailer's options. Not its `url` option: given
 * `url`, nodemailer builds the transport from the URL alone and drops every option beside it, so `pool` and the
 * timeouts would be ignored and each message would open a connection of its own.
 */
function connectionOf(smtpUrl: string) {
  const url = new URL(smtpUrl);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    secure: url.protocol === 'smtps:',
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
  };
}
