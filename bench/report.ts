import type { Measurement } from './load.js';

export interface Row {
  measured: Measurement;
  /** The baseline measured next to this scenario (its best run), when it compares with one. */
  baseline?: Measurement;
  ratio?: number;
  p99Ratio?: number;
  cpuRatio?: number;
  target: string;
  verdict: 'PASS' | 'FAIL' | 'info';
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
  const cells = rows.map((row) => [
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
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) =>
    `| ${values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(COLUMNS), rule, ...cells.map(line)].join('\n');
}

function fixed(n: number, digits: number): string {
  return Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
}
