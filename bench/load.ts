import autocannon from 'autocannon';
import { DEFAULT_CONNECTIONS, REQUEST_TIMEOUT_SECONDS, type Scenario } from './scenarios.js';

/** A scenario with its fixtures filled in: the request autocannon repeats. */
export type Load = Pick<Scenario, 'name' | 'method' | 'path' | 'expectStatus' | 'connections' | 'eachBody' | 'rate'> & {
  headers?: Record<string, string>;
  body?: string;
};

export interface Measurement {
  scenario: string;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds, from every response of the run (autocannon's own are whole ms). */
  p50Ms: number;
  p99Ms: number;
  /**
   * The slowest answer (ms) or, when longer, the longest a connection still unanswered at the end of the run had
   * waited for its answer (`oldestUnanswered`): a request stuck at the end is as slow as any answered one, and
   * autocannon times only answers.
   */
  maxMs: number;
  responses: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  /** Connection errors other than timeouts: refusals, resets. */
  socketErrors: number;
  /** Requests unanswered after REQUEST_TIMEOUT_SECONDS (autocannon then opens a new connection). */
  timeouts: number;
  /** CPU time the server process spent per response (µs), when it can be read. */
  cpuMicrosPerRequest: number | undefined;
  /** Why the run does not count: a status other than the expected one, connection errors or timeouts. */
  problem: string | undefined;
}

/**
 * Puts `scenario` under load at `baseUrl` for `durationSeconds` and checks that every answer had the expected status.
 * `serverCpu` reads the server process's CPU time (µs) so far.
 */
export function measure(
  scenario: Load,
  baseUrl: string,
  durationSeconds: number,
  serverCpu: () => number | undefined,
): Promise<Measurement> {
  const latencies: number[] = [];
  const cpuBefore = serverCpu();
  const connections = scenario.connections ?? DEFAULT_CONNECTIONS;
  const unanswered = oldestUnanswered(connections);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL(scenario.path, baseUrl).toString(),
        method: scenario.method,
        headers: scenario.headers,
        body: scenario.body,
        ...(scenario.eachBody
          ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: scenario.eachBody?.() }) }] }
          : {}),
        connections,
        ...(scenario.rate ? { overallRate: scenario.rate } : {}),
        duration: durationSeconds,
        timeout: REQUEST_TIMEOUT_SECONDS,
      },
      (err: Error | null, result) => {
        if (err) return reject(err);
        const cpuAfter = serverCpu();
        // At a fixed rate a connection idles between its requests: the time since its last answer is no wait.
        const waitingMs = scenario.rate ? 0 : unanswered.ms();
        resolve({
          scenario: scenario.name,
          requestsPerSecond: result.requests.average,
          p50Ms: percentile(latencies, 50),
          p99Ms: percentile(latencies, 99),
          maxMs: latencies.reduce((slowest, ms) => Math.max(slowest, ms), waitingMs),
          responses: latencies.length,
          non2xx: result.non2xx,
          socketErrors: result.errors - result.timeouts,
          timeouts: result.timeouts,
          cpuMicrosPerRequest:
            cpuBefore === undefined || cpuAfter === undefined || latencies.length === 0
              ? undefined
              : (cpuAfter - cpuBefore) / latencies.length,
          problem: problemOf(result, scenario.expectStatus ?? 200) ?? shortOfRate(scenario, durationSeconds, latencies),
        });
      },
    );
    instance.on('response', (client, _status, _bytes, responseTimeMs) => {
      latencies.push(responseTimeMs);
      unanswered.answered(client);
    });
  });
}

/**
 * How long the oldest request still in flight has waited. Each autocannon connection sends its next request as soon
 * as an answer arrives, so a connection's request in flight is as old as its last answer, or as the run for a
 * connection never answered. After a timeout or a connection error that overstates the wait, but such a run has
 * failed anyway.
 */
function oldestUnanswered(connections: number) {
  const start = performance.now();
  const lastAnswer = new Map<unknown, number>();
  return {
    answered(client: unknown) {
      lastAnswer.set(client, performance.now());
    },
    ms(): number {
      const now = performance.now();
      const oldest = lastAnswer.size < connections ? start : Math.min(...lastAnswer.values());
      return now - oldest;
    },
  };
}

function problemOf(result: autocannon.Result, expected: number): string | undefined {
  const unexpected = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => Number(status) !== expected)
    .map(([status, { count }]) => `${count ?? 0}× ${status}`);
  const problems = [
    ...(unexpected.length > 0 ? [`statuses other than ${expected}: ${unexpected.join(', ')}`] : []),
    ...(result.errors > 0 ? [`${result.errors} connection errors (${result.timeouts} timeouts)`] : []),
    ...(result['2xx'] + result.non2xx === 0 ? ['no response at all'] : []),
  ];
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * A fixed-rate run whose server could not keep up served fewer requests than asked: its latencies are those of a
 * saturated server, not of the rate named, and the run does not count.
 */
function shortOfRate(scenario: Load, durationSeconds: number, latencies: number[]): string | undefined {
  if (!scenario.rate) return undefined;
  const asked = scenario.rate * durationSeconds;
  return latencies.length < 0.95 * asked ? `served ${latencies.length} of the ${asked} requests asked` : undefined;
}

/** Nearest-rank percentile; sorts in place. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ?? Number.NaN;
}
