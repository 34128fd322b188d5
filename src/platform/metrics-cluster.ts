import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/**
 * Metrics under WEB_CONCURRENCY > 1. Each worker counts its own requests, and a scrape reaches whichever worker the
 * connection lands on; answering with that worker's numbers alone would make every counter jump between workers'
 * values. So a worker asked for /metrics asks the primary, which collects every worker's registries over the cluster
 * IPC channel and sums them (prom-client's `AggregatorRegistry.aggregate`): the pod's metrics, from any worker.
 *
 * Only workers that have built their app take part (they announce themselves), so a worker still starting delays no
 * scrape. A worker that dies takes its counts with it: the pod's counters drop, which Prometheus reads as a reset.
 */

type Collected = MetricObjectWithValues<MetricValue<string>>[];

type Message =
  | { type: 'mingus:metrics-join' }
  | { type: 'mingus:metrics-scrape'; id: number }
  | { type: 'mingus:metrics-collect'; id: number }
  | { type: 'mingus:metrics-collected'; id: number; metrics: Collected[] }
  | { type: 'mingus:metrics-answer'; id: number; text?: string; error?: string };

/** prom-client's own cluster timeout; a worker too busy to answer in this time fails the scrape rather than skew it. */
const COLLECT_TIMEOUT_MS = 5_000;

const isMessage = <T extends Message['type']>(message: unknown, type: T): message is Extract<Message, { type: T }> =>
  (message as { type?: unknown } | null)?.type === type;

/** Primary: serves the workers' requests for the pod's metrics. Call once, before forking. */
export function serveClusterMetrics(): void {
  const members = new Set<Worker>();
  const collections = new Map<number, (worker: Worker, metrics: Collected[]) => void>();
  let nextId = 0;

  const collect = (): Promise<Collected[]> => {
    const id = nextId++;
    const workers = [...members].filter((w) => w.isConnected());
    return new Promise((resolve, reject) => {
      const answers = new Map<Worker, Collected[]>();
      const timer = setTimeout(() => finish(new Error('a worker did not answer in time')), COLLECT_TIMEOUT_MS);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        collections.delete(id);
        if (err) reject(err);
        else resolve([...answers.values()].flat());
      };
      collections.set(id, (worker, metrics) => {
        answers.set(worker, metrics);
        if (answers.size === workers.length) finish();
      });
      for (const worker of workers) worker.send({ type: 'mingus:metrics-collect', id } satisfies Message);
      if (workers.length === 0) finish();
    });
  };

  cluster.on('message', (worker, message: unknown) => {
    if (isMessage(message, 'mingus:metrics-join')) {
      members.add(worker);
      worker.once('exit', () => members.delete(worker));
    } else if (isMessage(message, 'mingus:metrics-collected')) {
      collections.get(message.id)?.(worker, message.metrics);
    } else if (isMessage(message, 'mingus:metrics-scrape')) {
      const answer = (reply: { text?: string; error?: string }) => {
        if (worker.isConnected())
          worker.send({ type: 'mingus:metrics-answer', id: message.id, ...reply } satisfies Message);
      };
      collect()
        .then((metrics) => AggregatorRegistry.aggregate(metrics).metrics())
        .then(
          (text) => answer({ text }),
          (err: Error) => answer({ error: err.message }),
        );
    }
  });
}

const pending = new Map<number, (reply: { text?: string; error?: string }) => void>();
let nextScrape = 0;

/**
 * Worker: offers `registries` to the primary and returns the function that fetches the pod's aggregate. One app
 * per worker process in practice; each call joins with its own registries.
 */
export function joinClusterMetrics(registries: Registry[]): () => Promise<string> {
  process.on('message', (message: unknown) => {
    if (isMessage(message, 'mingus:metrics-collect')) {
      void Promise.all(registries.map((r) => r.getMetricsAsJSON())).then((metrics) =>
        process.send?.({ type: 'mingus:metrics-collected', id: message.id, metrics } satisfies Message),
      );
    } else if (isMessage(message, 'mingus:metrics-answer')) {
      pending.get(message.id)?.(message);
    }
  });
  process.send?.({ type: 'mingus:metrics-join' } satisfies Message);

  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextScrape++;
      // The primary's own deadline comes first; this one only covers a primary that is gone.
      const timer = setTimeout(() => settle({ error: 'the primary did not answer' }), COLLECT_TIMEOUT_MS + 1_000);
      const settle = (reply: { text?: string; error?: string }) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text !== undefined) resolve(reply.text);
        else reject(new Error(`cluster metrics: ${reply.error ?? 'no answer'}`));
      };
      pending.set(id, settle);
      process.send?.({ type: 'mingus:metrics-scrape', id } satisfies Message);
    });
}
