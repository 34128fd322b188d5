import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times, 100 on every mainstream Linux architecture. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) that process `pid` has used so far, in microseconds, read from /proc; undefined where
 * there is no /proc. Per request, it tells how much work the server did, a figure that other load on a shared
 * machine disturbs far less than requests per second.
 */
export function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, field 2, is in parentheses and may hold spaces; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
