/**
 * Traces, only when asked for. Without `OTEL_EXPORTER_OTLP_ENDPOINT` nothing of OpenTelemetry is loaded: the entry
 * points start telemetry before they import the application, and the SDK and its instrumentations are imported
 * dynamically from `telemetry-otel.ts` only when an endpoint is configured (ADR 0018).
 */
export interface TelemetryOptions {
  /** The OTLP/HTTP endpoint (an OpenTelemetry Collector); spans go to `<endpoint>/v1/traces`. */
  endpoint: string | undefined;
  /** The share of traces started here that are kept, 0..1; a caller's decision (its `traceparent`) is followed. */
  sampleRatio: number;
  serviceName: string;
  serviceVersion: string;
  environment: string;
}

/** A job run as the tracer sees it: its name, queue and attempt, never its payload or id. */
export interface TracedJob {
  name: string;
  queue: string;
  attempt: number;
}

export interface Telemetry {
  /** `trace_id` and `span_id` of the active span, for every log line written while one is active. */
  logFields(): { trace_id: string; span_id: string } | undefined;
  /** Runs a job inside a span of its own, which is the parent of the job's database and Redis spans. */
  traceJob<T>(job: TracedJob, run: () => Promise<T>): Promise<T>;
  /** Sends the spans still buffered; at shutdown, within `deadlineMs`. */
  shutdown(deadlineMs: number): Promise<void>;
}

/**
 * Starts the SDK when an endpoint is configured, else returns undefined having loaded nothing. Call it before the
 * application's modules (express, pg, ioredis) are imported, so that their instrumentations can patch them.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry | undefined> {
  if (!options.endpoint) return undefined;
  const { startOpenTelemetry } = await import('./telemetry-otel.js');
  return startOpenTelemetry({ ...options, endpoint: options.endpoint });
}
