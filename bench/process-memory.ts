import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Resets the peak resident set size that Linux keeps for process `pid` (VmHWM), so that reading it after a run
 * gives that run's peak rather than the process's since it started. False where it cannot (no /proc, not allowed):
 * the peak read later would then not be the run's.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    // "5" resets the peak RSS (Documentation/filesystems/proc.rst, clear_refs); the other values clear page bits.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * The peak resident set size of process `pid` since it started or since `resetPeakRss` (bytes), from
 * /proc/<pid>/status; undefined where there is no /proc. A peak, not a sample: a spike between two samples counts.
 */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** The resident set size of process `pid` now (bytes), from /proc/<pid>/status; undefined where there is no /proc. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}
