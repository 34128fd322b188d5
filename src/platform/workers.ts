import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import net from 'node:net';
import type { Logger } from './logger.js';

/** The message a worker treats as its shutdown signal (see main.ts). */
export const SHUTDOWN_MESSAGE = { type: 'mingus:shutdown' } as const;
/** A worker's word that it serves the connections handed to it. */
const ACCEPTING_MESSAGE = { type: 'mingus:accepting' } as const;
/** Sent with each connection the primary accepted. */
const CONNECTION_MESSAGE = { type: 'mingus:connection' } as const;

export interface WorkerPoolOptions {
  count: number;
  /** Extra environment for the workers (e.g. the embedded database's URL chosen by the primary). */
  env: Record<string, string>;
  logger: Logger;
  /** Where the primary listens, from the moment the first worker accepts connections. */
  port: number;
  host: string;
  /** More crashes than this within `crashWindowMs` and the primary gives up: a crash loop needs a human. */
  maxCrashes?: number;
  crashWindowMs?: number;
}

/**
 * The primary's side of `WEB_CONCURRENCY`: forks the workers, listens for them and hands each connection to the
 * next one (see `createDispatcher`), replaces a worker that dies, and on stop stops accepting, then drains them all.
 */
export function startWorkerPool(options: WorkerPoolOptions) {
  const { count, env, logger, maxCrashes = 10, crashWindowMs = 60_000 } = options;
  const crashes: number[] = [];
  let stopping = false;
  let onGiveUp: ((reason: string) => void) | undefined;
  const dispatcher = createDispatcher({ ...options, onError: () => onGiveUp?.('cannot listen') });
  const accepting = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork(env);
    worker.on('message', (message: unknown) => {
      if (!isMessage(message, ACCEPTING_MESSAGE.type)) return;
      accepting.add(worker);
      if (!stopping) dispatcher.add(worker);
    });
    worker.on('exit', (code, signal) => {
      dispatcher.remove(worker);
      if (stopping) return;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] as number) < now - crashWindowMs) crashes.shift();
      if (crashes.length > maxCrashes) {
        logger.fatal({ crashes: crashes.length, windowMs: crashWindowMs }, 'workers keep crashing: giving up');
        onGiveUp?.('crash loop');
        return;
      }
      logger.error({ pid: worker.process.pid, code, signal }, 'worker died: starting a replacement');
      // A short pause so a worker that dies at start does not spin the CPU.
      setTimeout(() => !stopping && fork(), Math.min(100 * crashes.length, 2_000));
    });
    return worker;
  };
  for (let i = 0; i < count; i += 1) fork();

  return {
    onGiveUp(handler: (reason: string) => void) {
      onGiveUp = handler;
    },
    onListening: dispatcher.onListening,
    /**
     * Stops accepting, then asks every worker to drain; kills those still alive at `deadlineMs`. Resolves with 0 if
     * all exited 0.
     */
    async stop(deadlineMs: number): Promise<number> {
      stopping = true;
      await dispatcher.close();
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      const exits = workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            if (w.isDead()) return resolve(w.process.exitCode ?? 1);
            w.once('exit', (code) => resolve(code ?? 1));
            // A worker still booting has not installed its message handler yet, and IPC drops a message nobody
            // listens for: ask it once it accepts connections. IPC keeps order, so a worker that does gets this
            // after every connection handed to it.
            if (accepting.has(w)) w.send(SHUTDOWN_MESSAGE);
            else w.on('message', (m: unknown) => isMessage(m, ACCEPTING_MESSAGE.type) && w.send(SHUTDOWN_MESSAGE));
          }),
      );
      const killer = setTimeout(() => {
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      }, deadlineMs);
      const codes = await Promise.all(exits);
      clearTimeout(killer);
      return codes.every((c) => c === 0) ? 0 : 1;
    },
    killAll() {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    },
  };
}

/**
 * The listening socket, owned by the primary, which hands each connection it accepts to the next worker in turn.
 *
 * Not node:cluster's own round-robin handle: that one closes only when the last worker closes its server, and then
 * drops the connections it had accepted but not yet handed over (nodejs/node#21746), so a drain under load reset
 * accepted requests. Here closing the listener comes first and is the primary's alone; every connection accepted
 * until then is already on its way to a worker.
 */
function createDispatcher(options: { port: number; host: string; logger: Logger; onError: () => void }) {
  const { port, host, logger } = options;
  const workers: Worker[] = [];
  let turn = 0;
  let onListening: ((address: net.AddressInfo) => void) | undefined;
  // pauseOnConnect: the primary reads nothing; every byte is the worker's.
  const listener = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    const worker = workers[turn++ % workers.length];
    // Every worker died at once: until a replacement serves, the client meets a reset, as it would a closed port.
    if (!worker) return socket.destroy();
    // Fails only when the worker has just died, which takes its other connections with it.
    worker.send(CONNECTION_MESSAGE, socket, (err) => err && socket.destroy());
  });
  listener.on('error', (err) => {
    // An accept that fails (say, out of file descriptors) costs that connection only.
    if (listener.listening) return logger.error({ err }, 'could not accept a connection');
    logger.fatal({ err, port, host }, 'cannot listen');
    options.onError();
  });
  let listenCalled = false;

  return {
    onListening(handler: (address: net.AddressInfo) => void) {
      onListening = handler;
    },
    /** Listens from the first worker on: until one serves, a connection is refused rather than held. */
    add(worker: Worker) {
      workers.push(worker);
      if (listenCalled) return;
      listenCalled = true;
      listener.listen(port, host, () => onListening?.(listener.address() as net.AddressInfo));
    },
    remove(worker: Worker) {
      const index = workers.indexOf(worker);
      if (index !== -1) workers.splice(index, 1);
    },
    /**
     * Stops accepting, after one more turn of the event loop: the kernel may hold connections that completed before
     * the signal in the listener's queue, and closing the listener resets them. That turn accepts them all (and hands
     * them over), so the close resets only connections newer than the signal: the clients see them refused or reset.
     */
    close(): Promise<void> {
      // An immediate queued by an immediate runs after the next poll phase, where those connections are accepted.
      return new Promise((resolve) =>
        setImmediate(() =>
          setImmediate(() => {
            if (listener.listening) listener.close();
            workers.length = 0;
            resolve();
          }),
        ),
      );
    },
  };
}

/**
 * A worker's side: serves on `server` the connections its primary hands over, from now on. Node starts the
 * server's connection checks (headers and request timeouts, idle connections) on `listening`, which a server that
 * never listens itself would not otherwise emit.
 */
export function acceptFromPrimary(server: Server): void {
  process.on('message', (message: unknown, socket: unknown) => {
    // The client may have gone while its connection was on its way: then no socket arrives.
    if (isMessage(message, CONNECTION_MESSAGE.type) && socket instanceof net.Socket) server.emit('connection', socket);
  });
  server.emit('listening');
  process.send?.(ACCEPTING_MESSAGE);
}

/** True when `message` is the primary's request to drain. */
export function isShutdownMessage(message: unknown): boolean {
  return isMessage(message, SHUTDOWN_MESSAGE.type);
}

const isMessage = (message: unknown, type: string): boolean => (message as { type?: unknown } | null)?.type === type;
