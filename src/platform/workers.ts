import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.js';

/** The message a worker treats as its shutdown signal (see main.ts). */
export const SHUTDOWN_MESSAGE = { type: 'mingus:shutdown' } as const;

export interface WorkerPoolOptions {
  count: number;
  /** Extra environment for the workers (e.g. the embedded database's URL chosen by the primary). */
  env: Record<string, string>;
  logger: Logger;
  /** More crashes than this within `crashWindowMs` and the primary gives up: a crash loop needs a human. */
  maxCrashes?: number;
  crashWindowMs?: number;
}

/**
 * The primary's side of `WEB_CONCURRENCY`: forks the workers (Node's cluster module shares the listening socket
 * and spreads connections round-robin), replaces a worker that dies, and drains them all on stop.
 */
export function startWorkerPool(options: WorkerPoolOptions) {
  const { count, env, logger, maxCrashes = 10, crashWindowMs = 60_000 } = options;
  const crashes: number[] = [];
  let stopping = false;
  let onGiveUp: (() => void) | undefined;

  const listening = new WeakSet<Worker>();
  const fork = () => {
    const worker = cluster.fork(env);
    worker.once('listening', () => listening.add(worker));
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] as number) < now - crashWindowMs) crashes.shift();
      if (crashes.length > maxCrashes) {
        logger.fatal({ crashes: crashes.length, windowMs: crashWindowMs }, 'workers keep crashing: giving up');
        onGiveUp?.();
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
    onGiveUp(handler: () => void) {
      onGiveUp = handler;
    },
    /** Asks every worker to drain; kills those still alive at `deadlineMs`. Resolves with 0 if all exited 0. */
    stop(deadlineMs: number): Promise<number> {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      const exits = workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            if (w.isDead()) return resolve(w.process.exitCode ?? 1);
            w.once('exit', (code) => resolve(code ?? 1));
            // A worker still booting has not installed its message handler yet, and IPC drops a message nobody
            // listens for: ask it once it is listening.
            if (listening.has(w)) w.send(SHUTDOWN_MESSAGE);
            else w.once('listening', () => w.send(SHUTDOWN_MESSAGE));
          }),
      );
      const killer = setTimeout(() => {
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      }, deadlineMs);
      return Promise.all(exits).then((codes) => {
        clearTimeout(killer);
        return codes.every((c) => c === 0) ? 0 : 1;
      });
    },
    killAll() {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    },
  };
}

/** True when `message` is the primary's request to drain. */
export function isShutdownMessage(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === SHUTDOWN_MESSAGE.type;
}
