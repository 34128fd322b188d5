import type { BaselineName } from './baselines.js';

/**
 * Values known only once the servers run: the account bench/servers.ts registered, and an access token from a
 * sign-in that bench/run.ts makes right before each comparison (access tokens live 15 minutes, a run longer).
 */
export interface Fixtures {
  email: string;
  password: string;
  accessToken: string;
}

/** A fixed value, or one made from the fixtures. */
type Given<T> = T | ((fixtures: Fixtures) => T);

interface Common {
  /** Unique; baselines are referred to by it. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Given<Record<string, string>>;
  body?: Given<string>;
  /** A body made afresh for every request (a route that refuses the same body twice), instead of `body`. */
  eachBody?: () => string;
  /** Every response must have this status, or the scenario fails. Default 200. */
  expectStatus?: number;
  /** Concurrent keep-alive connections. Default 50. */
  connections?: number;
  /**
   * A fixed arrival rate (requests a second, all connections together) instead of as fast as the server answers:
   * for latency targets, which at saturation would only restate throughput (p99 ≈ queue length ÷ rate).
   */
  rate?: number;
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

/**
 * The app alone under a load that tests how it holds rather than what it costs: judged by absolute limits, not
 * against a baseline, over a run of its own fixed length (a burst of connections must be survived for the time the
 * issue names, whatever BENCH_DURATION says for the comparisons).
 */
export interface CapacityScenario extends Common {
  target: 'app';
  connections: number;
  /** Seconds of the measured run; BENCH_DURATION and BENCH_ROUNDS do not apply (one run, which must pass). */
  durationSeconds: number;
  /** Fails the run when any answer, or a request still unanswered at the end, took longer (ms). */
  maxLatencyMs: number;
}

export type Scenario = BaselineScenario | AppScenario | CapacityScenario;

export const isCapacity = (s: Scenario): s is CapacityScenario => 'maxLatencyMs' in s;

export const DEFAULT_CONNECTIONS = 50;

/** Requests a second for the list's latency target: a rate both sides sustain with room (docs/performance.md). */
const LIST_RATE = 400;
/**
 * autocannon's rate is a quota per second, shared out among the connections: each sends its share back to back from
 * the start of every second, one request at a time, then waits for the next second. With 50 connections each second
 * would open with 50 requests at once, and p99 would again be the time to drain that queue; eight keep it short. It
 * is not an even arrival rate, though: while a second's quota goes out, the server is as busy as at saturation with
 * eight connections, so the p99 ratio still follows the CPU ratio (docs/performance.md).
 */
const LIST_CONNECTIONS = 8;
/** The bank transaction list's fixed rate (issue 18), with the list's eight connections. */
const BANK_LIST_RATE = 300;
/**
 * Money-and-mood over a year of 200,000 transactions aggregates them all in PostgreSQL on every request: a screen
 * opened now and then, measured at a low fixed rate that it sustains, for its latency beside the one-row read's.
 */
const INSIGHT_RATE = 1;
const INSIGHT_CONNECTIONS = 1;

const signedIn = ({ accessToken }: Fixtures) => ({ authorization: `Bearer ${accessToken}` });
/** The year bench/servers.ts seeds for the bank account (BANK_YEAR), written here as the client would ask. */
const BANK_YEAR_QUERY = 'from=1906-01-01&to=1906-12-31';
const signedInJson = (fixtures: Fixtures) => ({ ...signedIn(fixtures), 'content-type': 'application/json' });
/** The history page at the list's fixed rate. */
const listAtRate = {
  method: 'GET',
  path: '/api/v1/checkins?limit=20',
  headers: signedIn,
  rate: LIST_RATE,
  connections: LIST_CONNECTIONS,
} as const;

/**
 * One check-in a day per account: each request takes the next day back from yesterday, so none collides with
 * another (the app's account also holds 2,000 seeded in 1900–1905, far behind; the baseline writes for an account of
 * its own, bench/servers.ts).
 */
function checkinsFromYesterdayBack(): () => string {
  let daysBack = 0;
  return () => {
    daysBack += 1;
    return checkinBody(new Date(Date.now() - daysBack * 86_400_000).toISOString().slice(0, 10));
  };
}

function checkinBody(date: string): string {
  return JSON.stringify({
    checkinDate: date,
    stressLevel: 6,
    moodRating: 7,
    relationshipsRating: 8,
    sleepHours: 7.5,
    physicalActivityMinutes: 30,
    mindfulnessMinutes: 10,
    notes: 'Rent is due on Friday; slept badly but the run helped.',
  });
}
const LOGIN_CONNECTIONS = 16;

/**
 * autocannon's per-request timeout (s), written out rather than left to its default: a timeout then means an answer
 * slower than 10 s, which the capacity scenarios count apart from other connection errors.
 */
export const REQUEST_TIMEOUT_SECONDS = 10;

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
  // Informational: the same probe against the same route served as the app is (ADR 0013), neither side paying
  // Express's per-request prototype change, which `bare-json` still does.
  { name: 'bare-json, app server', target: 'bare-json-app-server', method: 'GET', path: '/json' },
  {
    name: 'GET /health/liveness vs app server',
    target: 'app',
    method: 'GET',
    path: '/health/liveness',
    compareTo: 'bare-json, app server',
  },
  // Informational: logged at info level like every ordinary request.
  { name: 'GET /health', target: 'app', method: 'GET', path: '/health', compareTo: 'bare-json' },
  // Informational: checks PostgreSQL and Redis, at most once a second, one check shared by concurrent callers.
  { name: 'GET /health/readiness', target: 'app', method: 'GET', path: '/health/readiness', compareTo: 'bare-json' },

  // Sign-in is one bcrypt comparison plus bookkeeping (lockout check and reset in Redis, the account read, a
  // refresh token and an audit row in one transaction): the bookkeeping may cost at most a tenth of the throughput.
  // bcrypt runs on libuv's 4 threads: 16 connections keep them all busy while others wait on PostgreSQL. 50 would
  // only lengthen the queue, and leave more work still running when a run ends, to be charged to the next run.
  {
    name: 'bcrypt.compare',
    target: 'bcrypt-compare',
    method: 'POST',
    path: '/login',
    headers: { 'content-type': 'application/json' },
    body: ({ email, password }) => JSON.stringify({ email, password }),
    connections: LOGIN_CONNECTIONS,
  },
  {
    name: 'POST /api/v1/auth/login',
    target: 'app',
    method: 'POST',
    path: '/api/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    body: ({ email, password }) => JSON.stringify({ email, password }),
    compareTo: 'bcrypt.compare',
    minRatio: 0.9,
    connections: LOGIN_CONNECTIONS,
  },

  // The authenticated read every screen of the apps starts with.
  {
    name: 'jwt.verify + pg SELECT',
    target: 'jwt-select',
    method: 'GET',
    path: '/me',
    headers: ({ accessToken }) => ({ authorization: `Bearer ${accessToken}` }),
  },
  {
    name: 'GET /api/v1/users/me',
    target: 'app',
    method: 'GET',
    path: '/api/v1/users/me',
    headers: ({ accessToken }) => ({ authorization: `Bearer ${accessToken}` }),
    compareTo: 'jwt.verify + pg SELECT',
    minRatio: 0.6,
    maxP99Ratio: 2,
  },

  // A burst of clients on the read every screen starts with (issue 20): 1,000 keep-alive connections for 30 s, each
  // sending its next request as soon as the last is answered. No request may fail, time out or take over 5 s.
  {
    name: 'c1000 GET /api/v1/users/me',
    target: 'app',
    method: 'GET',
    path: '/api/v1/users/me',
    headers: signedIn,
    connections: 1_000,
    durationSeconds: 30,
    maxLatencyMs: 5_000,
  },

  // Informational: the same read against the same baseline served as the app is (ADR 0013), so that neither side
  // pays Express's per-request prototype change, which the baseline above still does.
  {
    name: 'jwt.verify + pg SELECT, app server',
    target: 'jwt-select-app-server',
    method: 'GET',
    path: '/me',
    headers: signedIn,
  },
  {
    name: 'GET /api/v1/users/me vs app server',
    target: 'app',
    method: 'GET',
    path: '/api/v1/users/me',
    headers: signedIn,
    compareTo: 'jwt.verify + pg SELECT, app server',
  },

  // The profile screen: one row by primary key, three money fields decrypted (AES-256-GCM).
  {
    name: 'GET /api/v1/profile',
    target: 'app',
    method: 'GET',
    path: '/api/v1/profile',
    headers: signedIn,
    compareTo: 'jwt.verify + pg SELECT',
    minRatio: 0.5,
  },

  // Recording a check-in: validation, the user's time zone, the notes encrypted, one INSERT with its audit row.
  {
    name: 'jwt.verify + pg INSERT',
    target: 'jwt-insert',
    method: 'POST',
    path: '/checkins',
    headers: signedInJson,
    eachBody: checkinsFromYesterdayBack(),
    expectStatus: 201,
  },
  {
    name: 'POST /api/v1/checkins',
    target: 'app',
    method: 'POST',
    path: '/api/v1/checkins',
    headers: signedInJson,
    eachBody: checkinsFromYesterdayBack(),
    expectStatus: 201,
    compareTo: 'jwt.verify + pg INSERT',
    minRatio: 0.4,
  },

  // The history screen, for an account with thousands of check-ins: a keyset page on (user_id, checkin_date), twenty
  // rows, twenty notes decrypted. Its target is a latency one, so it is judged at a fixed rate both sides sustain
  // (LIST_RATE): saturated, as in the informational row, p99 only restates the throughput of 20 rows against 1.
  {
    name: 'GET /api/v1/checkins?limit=20',
    target: 'app',
    method: 'GET',
    path: '/api/v1/checkins?limit=20',
    headers: signedIn,
    compareTo: 'jwt.verify + pg SELECT',
  },
  {
    name: `jwt.verify + pg SELECT @ ${LIST_RATE}/s`,
    target: 'jwt-select',
    method: 'GET',
    path: '/me',
    headers: signedIn,
    rate: LIST_RATE,
    connections: LIST_CONNECTIONS,
  },
  {
    name: `GET /api/v1/checkins?limit=20 @ ${LIST_RATE}/s`,
    target: 'app',
    ...listAtRate,
    compareTo: `jwt.verify + pg SELECT @ ${LIST_RATE}/s`,
    maxP99Ratio: 2,
  },
  // Informational: the same list against the same baseline served as the app is (ADR 0013), neither side paying
  // Express's per-request prototype change.
  {
    name: `jwt.verify + pg SELECT, app server @ ${LIST_RATE}/s`,
    target: 'jwt-select-app-server',
    method: 'GET',
    path: '/me',
    headers: signedIn,
    rate: LIST_RATE,
    connections: LIST_CONNECTIONS,
  },
  {
    name: `GET /api/v1/checkins?limit=20 @ ${LIST_RATE}/s vs app server`,
    target: 'app',
    ...listAtRate,
    compareTo: `jwt.verify + pg SELECT, app server @ ${LIST_RATE}/s`,
  },
  // Informational: the same list against the least code that reads the same page (no decryption, no session check,
  // no limiter), at the same rate: what twenty rows cost by themselves, and what our stack adds to them.
  {
    name: `jwt.verify + pg page @ ${LIST_RATE}/s`,
    target: 'jwt-page',
    method: 'GET',
    path: '/checkins',
    headers: signedIn,
    rate: LIST_RATE,
    connections: LIST_CONNECTIONS,
  },
  {
    name: `GET /api/v1/checkins?limit=20 @ ${LIST_RATE}/s vs page`,
    target: 'app',
    ...listAtRate,
    compareTo: `jwt.verify + pg page @ ${LIST_RATE}/s`,
  },

  // The transactions screen for an account holding 200,000 transactions (issue 18): a keyset page of fifty on the
  // (user_id, date, id) index, judged at a fixed rate against the one-row read at the same rate.
  {
    name: `jwt.verify + pg SELECT @ ${BANK_LIST_RATE}/s`,
    target: 'jwt-select',
    method: 'GET',
    path: '/me',
    headers: signedIn,
    rate: BANK_LIST_RATE,
    connections: LIST_CONNECTIONS,
  },
  {
    name: `GET /api/v1/banking/transactions?limit=50 @ ${BANK_LIST_RATE}/s`,
    target: 'app',
    method: 'GET',
    path: '/api/v1/banking/transactions?limit=50',
    headers: signedIn,
    rate: BANK_LIST_RATE,
    connections: LIST_CONNECTIONS,
    compareTo: `jwt.verify + pg SELECT @ ${BANK_LIST_RATE}/s`,
    maxP99Ratio: 3,
  },
  // Informational (issue 18): money-and-mood over a year of 200,000 transactions and 365 check-ins, its latency
  // beside the one-row read's at the same low rate. That it reads no rows into the process is a test's job
  // (test/modules/insights/money-and-mood.test.ts).
  {
    name: `jwt.verify + pg SELECT @ ${INSIGHT_RATE}/s`,
    target: 'jwt-select',
    method: 'GET',
    path: '/me',
    headers: signedIn,
    rate: INSIGHT_RATE,
    connections: INSIGHT_CONNECTIONS,
  },
  {
    name: `GET /api/v1/insights/money-and-mood (a year) @ ${INSIGHT_RATE}/s`,
    target: 'app',
    method: 'GET',
    path: `/api/v1/insights/money-and-mood?${BANK_YEAR_QUERY}`,
    headers: signedIn,
    rate: INSIGHT_RATE,
    connections: INSIGHT_CONNECTIONS,
    compareTo: `jwt.verify + pg SELECT @ ${INSIGHT_RATE}/s`,
  },
];
