/**
 * The reminders scenario's baseline (bench/reminders.ts), in a process of its own as a worker is: the least code that
 * sends the same messages to the same SMTP server, one pooled nodemailer transport set up as src/platform/mailer.ts
 * sets up its own, and as many sends in flight as the worker runs jobs (WORKER_CONCURRENCY's default, 5), so each
 * has a pooled connection as each job has. No queue, no database.
 * Told over IPC: `{ type: 'load', items }` (unmeasured; answers `loaded`), then `{ type: 'go' }`; answers `done` once
 * every message is accepted. Exits when the runner goes away.
 */
import nodemailer from 'nodemailer';
import { reminderDueMail } from '../src/platform/mail-templates.js';
import {
  MAIL_LOOP_CONNECTIONS,
  type MailItem,
  type MailLoopMessage,
  type MailLoopReply,
} from './mail-loop-protocol.js';

const IN_FLIGHT = MAIL_LOOP_CONNECTIONS;

const send = (reply: MailLoopReply) => process.send?.(reply);

function main() {
  const { SMTP_URL: url, MAIL_FROM: from } = process.env;
  if (!url || !from || !process.send) throw new Error('bench/mail-loop.ts: run by bench/reminders.ts');
  // Host and port, not `url`: given `url`, nodemailer ignores every other option, `pool` included.
  const smtp = new URL(url);
  const transport = nodemailer.createTransport({
    host: smtp.hostname,
    port: Number(smtp.port),
    secure: smtp.protocol === 'smtps:',
    pool: true,
    maxConnections: MAIL_LOOP_CONNECTIONS,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);

  let items: MailItem[] = [];
  async function sendAll() {
    let next = 0;
    const lane = async () => {
      for (let item = items[next++]; item; item = items[next++]) {
        await transport.sendMail({ from, to: item.to, ...reminderDueMail(item) });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  }

  process.on('message', (message: MailLoopMessage) => {
    if (message.type === 'load') {
      items = message.items;
      send({ type: 'loaded' });
    } else
      sendAll().then(
        () => send({ type: 'done' }),
        (err: unknown) => send({ type: 'failed', message: String(err) }),
      );
  });
  process.on('disconnect', () => {
    transport.close();
    process.exit(0);
  });
  send({ type: 'ready' });
}

main();
