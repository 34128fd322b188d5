/** What bench/reminders.ts and its baseline processes (bench/mail-loop.ts) say to each other over IPC. */

export interface MailItem {
  to: string;
  title: string;
  dueDate: string;
}

export type MailLoopMessage = { type: 'load'; items: MailItem[] } | { type: 'go' };
export type MailLoopReply =
  | { type: 'ready' }
  | { type: 'loaded' }
  | { type: 'done' }
  | { type: 'failed'; message: string };

/** src/platform/mailer.ts's `maxConnections`, and WORKER_CONCURRENCY's default: sends in flight per process. */
export const MAIL_LOOP_CONNECTIONS = 5;
