import path from 'node:path';
import { readConfig } from './platform/entry.js';
import { startTelemetry } from './platform/telemetry.js';

const ROOT_DIR = path.resolve(import.meta.dirname, '..');

/**
 * Process entry of the API. Tracing, when configured, must be in place before express, pg and ioredis are first
 * imported, so the application (src/api-process.ts, which imports them) is loaded only after it; without
 * OTEL_EXPORTER_OTLP_ENDPOINT nothing of OpenTelemetry is loaded.
 */
async function main() {
  const config = readConfig(ROOT_DIR);
  const telemetry = await startTelemetry({
    endpoint: config.telemetry.otlpEndpoint,
    sampleRatio: config.telemetry.sampleRatio,
    serviceName: 'mingus-api',
    serviceVersion: config.version,
    environment: config.telemetry.environment,
  });
  const { runApi } = await import('./api-process.js');
  await runApi(config, telemetry);
}

main().catch((err: unknown) => {
  // Startup failed before the shutdown path could help: say why, in the log format when possible.
  console.error('startup failed:', err);
  process.exit(1);
});
