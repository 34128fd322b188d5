import type { BaselineName } from './baselines.js';

interface Common {
  /** Unique; baselines are referred to by it. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Every response must have this status, or the scenario fails. Default 200. */
  expectStatus?: number;
  /** Concurrent keep-alive connections. Default 50. */
  connections?: number;
}

/** A reference server of bench/baselines.ts; measured next to each scenario that compares with it. */
export interface BaselineScenario extends Common {
  target: BaselineName;
}

/** A route of the real application, compared with a baseline measured in the same run. */
export interface AppScenario extends Common {
  target: 'app';
  /** Name of the baseline scenario. */
  compareTo: string;
  /** Fails the run when this scenario's req/s is below `minRatio` × the baseline's. No target when absent. */
  minRatio?: number;
  /** Fails the run when this scenario's p99 latency is above `maxP99Ratio` × the baseline's. */
  maxP99Ratio?: number;
}

export type Scenario = BaselineScenario | AppScenario;

export const DEFAULT_CONNECTIONS = 50;

export const scenarios: Scenario[] = [
  { name: 'bare-json', target: 'bare-json', method: 'GET', path: '/json' },
  // Kubernetes probes it every few seconds per pod; it must stay close to the cost of Express itself.
  {
    name: 'GET /health/liveness',
    target: 'app',
    method: 'GET',
    path: '/health/liveness',
    compareTo: 'bare-json',
    minRatio: 0.8,
  },
  // Informational: logged at info level like every ordinary request.
  { name: 'GET /health', target: 'app', method: 'GET', path: '/health', compareTo: 'bare-json' },
  // Informational: pings PostgreSQL and Redis on every request.
  { name: 'GET /health/readiness', target: 'app', method: 'GET', path: '/health/readiness', compareTo: 'bare-json' },
];
