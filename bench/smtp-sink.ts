import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * The SMTP server of the reminders scenario (the `smtp-server` package, on a free port of 127.0.0.1): accepts every
 * message and keeps, for each, only its recipient and subject, the pair that tells whether a reminder arrived once.
 * It reads the header block of each message and lets the rest stream through unparsed: parsing every message with
 * mailparser (as the tests do) would cost this process CPU that the workers and the baseline share with it on a small
 * machine, and the check needs neither the body nor the MIME structure.
 */
export async function startSmtpSink() {
  let received = 0;
  let connections = 0;
  const pairs = new Map<string, number>();
  let waiting: { count: number; resolve: () => void } | undefined;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // Without this, every new connection waits for a reverse DNS lookup of 127.0.0.1.
    disableReverseLookup: true,
    // Closing does not wait for the clients' pooled idle connections.
    closeTimeout: 10,
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((a) => a.address).join(',');
      let head = '';
      let subject: string | undefined;
      stream.on('data', (chunk: Buffer) => {
        if (subject !== undefined) return;
        head += chunk.toString('utf8');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          subject = subjectOf(head.slice(0, end));
          head = '';
        }
      });
      stream.on('end', () => {
        const key = `${to} ${subject ?? subjectOf(head) ?? ''}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
        received += 1;
        if (waiting && received >= waiting.count) {
          waiting.resolve();
          waiting = undefined;
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', (err) => console.error('bench SMTP server:', err.message));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    /** Messages accepted since the last `reset()`. */
    get received() {
      return received;
    },
    /** SMTP connections opened since the last `reset()`: one per message means the client is not pooling. */
    get connections() {
      return connections;
    },
    /** How many times each `<recipient> <subject>` arrived since the last `reset()`. */
    pairs: () => pairs as ReadonlyMap<string, number>,
    /** Resolves once `count` messages have arrived since the last `reset()`. */
    waitFor(count: number): Promise<void> {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve) => {
        waiting = { count, resolve };
      });
    },
    reset() {
      received = 0;
      connections = 0;
      pairs.clear();
      waiting = undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;

/** The Subject header of a header block, unfolded; undefined when there is none. */
function subjectOf(head: string): string | undefined {
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  return /^subject:[ \t]*(.*)$/im.exec(unfolded)?.[1]?.trim();
}
