import type { Logger } from './logger.js';

/**
 * A warning that may come in floods (forged webhook calls): written at most once per `windowMs` per reason, each
 * line saying how many of that reason were left out since the previous one. Exact counts belong in a metric; the
 * log only has to show that it is happening and what it looks like. `reason` must come from a fixed set chosen in
 * code (one entry is kept per reason).
 */
export function sampledWarning(logger: Logger, message: string, options: { now: () => Date; windowMs?: number }) {
  const windowMs = options.windowMs ?? 60_000;
  const seen = new Map<string, { loggedAt: number; suppressed: number }>();
  return (reason: string, fields: Record<string, unknown> = {}): void => {
    const at = options.now().getTime();
    const last = seen.get(reason);
    if (last && at - last.loggedAt < windowMs) {
      last.suppressed += 1;
      return;
    }
    logger.warn({ ...fields, reason, suppressed: last?.suppressed ?? 0 }, message);
    seen.set(reason, { loggedAt: at, suppressed: 0 });
  };
}
