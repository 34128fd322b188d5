import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on a free port of 127.0.0.1 (the `smtp-server` package), keeping every message it accepted,
 * parsed with `mailparser`, each answered after `delayMs` when given; it counts the connections opened and records
 * the credentials of each login. `refuse(code)` makes it answer each next message with that code (a 5xx refusal, a
 * 4xx deferral); `accept()` ends that. `stop()` closes it (open connections dropped, new ones refused), `start()`
 * opens it again on its port.
 */
export async function startSmtpServer(options: { delayMs?: number } = {}) {
  const received: ParsedMail[] = [];
  /** Connections opened, and the credentials each login presented: what a client's pooling and AUTH did. */
  const connections = { opened: 0 };
  const logins: Array<{ username: string | undefined; password: string | undefined }> = [];
  let refusal: number | undefined;
  let port = 0;
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      // A server that goes down drops its connections, pooled idle ones included, rather than waiting 30 s for them.
      closeTimeout: 10,
      // AUTH over plain TCP: the tests' connections never leave 127.0.0.1.
      allowInsecureAuth: true,
      logger: false,
      onConnect(_session, callback) {
        connections.opened += 1;
        callback();
      },
      onAuth(auth, _session, callback) {
        logins.push({ username: auth.username ?? undefined, password: auth.password ?? undefined });
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        if (refusal !== undefined) {
          stream.resume();
          const code = refusal;
          return stream.on('end', () =>
            callback(Object.assign(new Error('refused by the test'), { responseCode: code })),
          );
        }
        simpleParser(stream)
          .then(async (mail) => {
            // A server that takes its time: sends are still running when a test signals the worker.
            if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
            received.push(mail);
            callback();
          })
          .catch(callback);
      },
    });
  let server = make();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    received,
    connections,
    logins,
    refuse(code: number) {
      refusal = code;
    },
    accept() {
      refusal = undefined;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async start() {
      server = make();
      await listen();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
