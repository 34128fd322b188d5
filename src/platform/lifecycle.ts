/**
 * The process's own state as the probes report it: started once startup work (migration check) is done, and
 * shutting down from the first SIGTERM on, so readiness turns 503 before the server stops accepting.
 */
export function createLifecycle(now: () => number = Date.now) {
  const startedAt = now();
  let started = false;
  let shuttingDown = false;
  return {
    uptimeSeconds: () => Math.floor((now() - startedAt) / 1000),
    isStarted: () => started,
    isShuttingDown: () => shuttingDown,
    markStarted() {
      started = true;
    },
    beginShutdown() {
      shuttingDown = true;
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
