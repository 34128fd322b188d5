import path from 'node:path';
import { onShutdownSignal, readConfig } from './platform/entry.js';
import { createLogger } from './platform/logger.js';
import { startTelemetry } from './platform/telemetry.js';

const ROOT_DIR = path.resolve(import.meta.dirname, '..');

/**
 * `npm run worker`: runs the jobs (reminders, maintenance, billing reconciliation) outside the API, with the same
 * configuration checks, logger, metrics and Sentry. Its own small HTTP server answers the probes and `/metrics` on
 * WORKER_PORT. SIGTERM: stop taking jobs, finish the running ones within SHUTDOWN_TIMEOUT_MS, exit 0.
 */
async function main() {
  const config = readConfig(ROOT_DIR);
  // Before the worker's modules (pg, ioredis, BullMQ) are imported, so that tracing can instrument them.
  const telemetry = await startTelemetry({
    endpoint: config.telemetry.otlpEndpoint,
    sampleRatio: config.telemetry.sampleRatio,
    serviceName: 'mingus-worker',
    serviceVersion: config.version,
    environment: config.telemetry.environment,
  });
  const logger = createLogger({ ...config.log, fields: telemetry?.logFields }).child({ process: 'worker' });
  const { createJobWorkerProcess } = await import('./worker-process.js');
  const worker = await createJobWorkerProcess(config, logger, telemetry).catch((err: unknown) => {
    logger.fatal({ err }, 'worker did not start');
    logger.flush(() => process.exit(1));
    return undefined;
  });
  if (!worker) return;
  let stopping = false;
  onShutdownSignal((signal) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      logger.flush(() => process.exit(1));
      return;
    }
    stopping = true;
    void worker.stop(signal).then((code) => logger.flush(() => process.exit(code)));
  });
  const server = await worker.serveProbes();
  logger.info({ port: (server.address() as { port: number }).port }, 'worker probes and metrics listening');
}

main().catch((err: unknown) => {
  console.error('worker failed:', err);
  process.exit(1);
});
