import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/app.js';
import { spawnServer } from '../support/server-process.js';
import { k8sObjects, readRepoFile } from './delivery.helpers.js';

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
}

const rules = (): Rule[] => {
  const doc = parse(readRepoFile('deploy/k8s/monitoring/prometheusrule.yaml'));
  expect(doc.kind).toBe('PrometheusRule');
  return doc.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules);
};

/** Rows "| `Name`: title | `expr` | for | what to do |" of docs/operations.md's "What to alert on". */
function documentedAlerts(): Map<string, { expr: string; for: string }> {
  const doc = readRepoFile('docs/operations.md');
  const section = /^#### What to alert on\n([\s\S]*?)(?=^#{1,4} )/m.exec(doc)?.[1] ?? '';
  const rows = new Map<string, { expr: string; for: string }>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    const name = /^`(\w+)`/.exec(cells[0] ?? '')?.[1];
    const expr = /^`(.*)`$/.exec(cells[1] ?? '')?.[1];
    if (name && expr) rows.set(name, { expr: expr.replaceAll('\\|', '|'), for: cells[2] ?? '' });
  }
  return rows;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS_TOO = new Set(['bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: label matchers, ranges, grouping clauses and function names removed.
 * Enough for the expressions of our rules (no subqueries with `@`, no string literals outside matchers).
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\(?))/g)) {
    const [token] = m;
    if (m[1] === '(' || KEYWORDS.has(token) || KEYWORDS_TOO.has(token.toLowerCase())) continue;
    // `5m`, `1e3`: the tail of a number, not a name.
    if (m.index > 0 && /[0-9.]/.test(bare[m.index - 1] as string)) continue;
    names.add(token);
  }
  return [...names].sort();
}

/**
 * What a Prometheus text exposition exports, by the series names a query can select: each family's own name, and a
 * histogram's `_bucket`, `_sum` and `_count` (a histogram whose labels saw no observation yet has no sample line, but
 * its `# TYPE` line says it exists).
 */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name as string);
  }
  return names;
}

/**
 * Metrics that come from elsewhere than our processes, named one by one so a misspelt metric of ours cannot pass as
 * someone else's: Prometheus' own `up`, and kube-state-metrics (the readiness and backup alerts).
 */
const EXTERNAL = new Set([
  'up',
  'kube_deployment_status_replicas_unavailable',
  'kube_cronjob_status_last_successful_time',
]);
/** Job metrics come from the worker's /metrics; every other metric of ours from the API's. */
const fromWorker = (name: string) => /^mingus_jobs?_/.test(name);

describe('alerts as code', () => {
  it('when the runbook and the PrometheusRule are compared, they hold the same alerts with the same expressions and delays', () => {
    const documented = documentedAlerts();
    const shipped = rules();
    expect(shipped.length).toBeGreaterThanOrEqual(20);
    expect(shipped.map((r) => r.alert).sort()).toEqual([...documented.keys()].sort());
    for (const rule of shipped) {
      expect({ expr: rule.expr, for: rule.for }, rule.alert).toEqual(documented.get(rule.alert));
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels.severity);
    }
  });

  it('when the issue lists what must alert, each concern has its rule', () => {
    const byName = new Map(rules().map((r) => [r.alert, r.expr]));
    const concerns: Array<[string, RegExp]> = [
      ['MingusHigh5xxRatio', /status=~"5\.\."/],
      ['MingusSlowRoute', /histogram_quantile\(0\.99/],
      ['MingusPodsNotReady', /kube_deployment_status_replicas_unavailable/],
      ['MingusDatabasePoolSaturated', /mingus_db_pool_connections_in_use/],
      ['MingusRateLimitsFailingOpen', /mingus_redis_fail_open_total/],
      ['MingusWebhooksRejected', /mingus_webhook_events_total/],
      ['MingusJobsFailing', /mingus_job_failures_total/],
      ['MingusQueueBacklog', /mingus_jobs_waiting/],
      ['MingusBackupTooOld', /kube_cronjob_status_last_successful_time\{[^}]*cronjob="mingus-db-backup"/],
    ];
    for (const [alert, expr] of concerns) expect(byName.get(alert), alert).toMatch(expr);
    // The backup CronJob the alert watches is the one deploy/k8s ships.
    expect(k8sObjects().find((o) => o.kind === 'CronJob')?.metadata.name).toBe('mingus-db-backup');
  });

  it("when the memory alert compares with the pods' limit, the number is the API's and the worker's memory limit", () => {
    const memory = rules().find((r) => r.alert === 'MingusMemoryNearLimit')?.expr ?? '';
    const limit = Number(/\* (\d+)$/.exec(memory)?.[1]);
    const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1]) * 1024 * 1024;
    for (const o of k8sObjects().filter((x) => x.kind === 'Deployment')) {
      expect(mebibytes(o.spec.template.spec.containers[0].resources.limits.memory), o.metadata.name).toBe(limit);
    }
  });

  it('when metric names are read from an expression, grouping, ranges, matchers and functions are not taken for metrics', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(mingus_http_request_duration_seconds_bucket{route!~"a|b"}[5m]))) > 1',
      ),
    ).toEqual(['mingus_http_request_duration_seconds_bucket']);
    expect(metricNames('sum(a_total) by (pod) / on (pod) group_left() sum(b_max) by (pod) > 0.9 * 1e3')).toEqual([
      'a_total',
      'b_max',
    ]);
    expect(metricNames('time() - max(x{n="y"}) > 26 * 3600 or absent(x{n="y"})')).toEqual(['x']);
  });
});

describe.runIf(inject('redisUrl'))('the metrics the alerts name', () => {
  let t: TestApp;
  let worker: Awaited<ReturnType<typeof spawnServer>>;
  const workerToken = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    t = await startTestApp();
    worker = await spawnServer(
      {
        NODE_ENV: 'test',
        DATABASE_URL: t.database.url,
        REDIS_URL: inject('redisUrl') ?? '',
        REDIS_KEY_PREFIX: t.config.redis.keyPrefix,
        METRICS_TOKEN: workerToken,
        SMTP_URL: 'smtp://127.0.0.1:1',
      },
      { path: '/health/readiness', status: 200 },
      { script: 'src/worker.ts', portVariable: 'WORKER_PORT' },
    );
  }, 120_000);
  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await t?.close();
  });

  it('when the API and the worker are scraped, every metric each alert names is exported by the process it comes from', async () => {
    const api = await request(t.app).get('/metrics').set('Authorization', `Bearer ${t.metricsToken}`);
    expect(api.status).toBe(200);
    const fromApi = exportedNames(api.text);
    const workerScrape = await fetch(worker.url('/metrics'), { headers: { Authorization: `Bearer ${workerToken}` } });
    expect(workerScrape.status).toBe(200);
    const fromWorkerScrape = exportedNames(await workerScrape.text());

    const missing: string[] = [];
    for (const rule of rules()) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) {
        if (EXTERNAL.has(name)) continue;
        const exported = fromWorker(name) ? fromWorkerScrape : fromApi;
        if (!exported.has(name)) missing.push(`${rule.alert}: ${name} (${fromWorker(name) ? 'worker' : 'api'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('when an alert names a metric nobody exports, the check reports it (it can fail)', async () => {
    const api = await request(t.app).get('/metrics').set('Authorization', `Bearer ${t.metricsToken}`);
    const exported = exportedNames(api.text);
    expect(exported.has('mingus_http_request_duration_seconds_count')).toBe(true);
    expect(exported.has('mingus_http_request_duration_seconds')).toBe(false); // a histogram is its series
    expect(metricNames('sum(rate(mingus_http_requests_total[5m])) > 1').filter((n) => !exported.has(n))).toEqual([
      'mingus_http_requests_total',
    ]);
  });
});
