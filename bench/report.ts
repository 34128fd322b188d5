import type { Measurement } from './load.js';

export type Verdict = 'PASS' | 'FAIL' | 'info';

export interface Row {
  measured: Measurement;
  /** The baseline measured next to this scenario (its best run), when it compares with one. */
  baseline?: Measurement;
  ratio?: number;
  p99Ratio?: number;
  cpuRatio?: number;
  target: string;
  verdict: Verdict;
}

/** A capacity scenario's run: absolute figures against absolute limits, no baseline. */
export interface CapacityRow {
  measured: Measurement;
  connections: number;
  /** The servers' process's peak resident set size during the run (bytes), when it can be read. */
  peakRssBytes: number | undefined;
  target: string;
  verdict: Verdict;
}

const COLUMNS = [
  'scenario',
  'req/s',
  'p50 ms',
  'p99 ms',
  'CPU µs/req',
  'baseline req/s',
  'ratio',
  'p99 ratio',
  'CPU ratio',
  'target',
  'result',
];

/** A plain-text table, readable in a terminal and pasteable into Markdown. */
export function table(rows: Row[]): string {
  return markdown(COLUMNS, rows.map(comparisonCells));
}

const CAPACITY_COLUMNS = [
  'scenario',
  'connections',
  'req/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'non-2xx',
  'socket errors',
  'timeouts',
  'CPU µs/req',
  'peak RSS MiB',
  'target',
  'result',
];

/** The capacity scenarios' table, in the same format. */
export function capacityTable(rows: CapacityRow[]): string {
  return markdown(
    CAPACITY_COLUMNS,
    rows.map(({ measured: m, connections, peakRssBytes, target, verdict }) => [
      m.scenario,
      fixed(connections, 0),
      fixed(m.requestsPerSecond, 0),
      fixed(m.p50Ms, 2),
      fixed(m.p99Ms, 2),
      fixed(m.maxMs, 0),
      fixed(m.non2xx, 0),
      fixed(m.socketErrors, 0),
      fixed(m.timeouts, 0),
      m.cpuMicrosPerRequest === undefined ? 'n/a' : fixed(m.cpuMicrosPerRequest, 0),
      peakRssBytes === undefined ? 'n/a' : fixed(peakRssBytes / 2 ** 20, 0),
      target,
      verdict,
    ]),
  );
}

function comparisonCells(row: Row): string[] {
  return [
    row.measured.scenario,
    fixed(row.measured.requestsPerSecond, 0),
    fixed(row.measured.p50Ms, 2),
    fixed(row.measured.p99Ms, 2),
    row.measured.cpuMicrosPerRequest === undefined ? 'n/a' : fixed(row.measured.cpuMicrosPerRequest, 0),
    row.baseline ? fixed(row.baseline.requestsPerSecond, 0) : '',
    row.ratio === undefined ? '' : `${fixed(row.ratio, 2)}×`,
    row.p99Ratio === undefined ? '' : `${fixed(row.p99Ratio, 2)}×`,
    row.cpuRatio === undefined ? '' : `${fixed(row.cpuRatio, 2)}×`,
    row.target,
    row.verdict,
  ];
}

/** `columns` over `cells` as a Markdown table, the first column left-aligned and the others right-aligned. */
export function markdown(columns: string[], cells: string[][]): string {
  const widths = columns.map((title, i) => Math.max(title.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) =>
    `| ${values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(columns), rule, ...cells.map(line)].join('\n');
}

export function fixed(n: number, digits: number): string {
  return Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
}
