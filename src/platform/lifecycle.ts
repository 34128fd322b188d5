/**
 * The process's own state as the probes report it: started once startup work (migration check) is done, and
 * shutting down from the first SIGTERM on, so readiness turns 503 before the server stops accepting.
 */
export function createLifecycle(now: () => number = Date.now) {
  const startedAt = now();
  let started = false;
  let shuttingDown = false;
  const shutdownListeners: Array<() => void> = [];
  return {
    uptimeSeconds: () => Math.floor((now() - startedAt) / 1000),
    isStarted: () => started,
    isShuttingDown: () => shuttingDown,
    markStarted() {
      started = true;
    },
    beginShutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      for (const listener of shutdownListeners.splice(0)) listener();
    },
    /** Runs `listener` once the shutdown begins: then, or now if it has. */
    onShutdown(listener: () => void) {
      if (shuttingDown) listener();
      else shutdownListeners.push(listener);
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
