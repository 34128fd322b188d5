import { register } from 'node:module';
import { isSpanContextValid, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createAddHookMessageChannel } from 'import-in-the-middle';

/**
 * The only attributes a span keeps when it leaves the process. The instrumentations also record the requested URL
 * (path with ids, query string), the client's address, the user agent, Redis keys (which hold addresses and email
 * hashes) and connection strings: none of those may leave. An allow-list, so that a new attribute of a future
 * instrumentation is dropped until someone decides it is harmless.
 */
const KEPT_ATTRIBUTES = new Set([
  // HTTP, old and stable semantic conventions: the method, the route template, the status; never the URL.
  'http.method',
  'http.request.method',
  'http.route',
  'http.status_code',
  'http.response.status_code',
  'http.flavor',
  'network.protocol.version',
  'http.scheme',
  'url.scheme',
  'server.port',
  'net.host.port',
  // Outgoing calls: the host called (api.stripe.com), never the path.
  'server.address',
  'net.peer.name',
  'net.peer.port',
  // PostgreSQL and Redis: the statement as code wrote it (values are bind parameters, never in the text) and, for
  // Redis, the command name alone (see dbStatementSerializer below).
  'db.system',
  'db.system.name',
  'db.name',
  'db.namespace',
  'db.operation',
  'db.operation.name',
  'db.statement',
  'db.query.text',
  // Express layers: the route template or the middleware's name.
  'express.name',
  'express.type',
  // Jobs (traceJob below).
  'messaging.system',
  'messaging.destination.name',
  'messaging.operation.type',
  'mingus.job.name',
  'mingus.job.attempt',
  'error.type',
]);

/** Events keep their name (`exception`) and the error's type, never its message or stack, which can quote input. */
const KEPT_EVENT_ATTRIBUTES = new Set(['exception.type']);

function keep(attributes: ReadableSpan['attributes'], allowed: ReadonlySet<string>): ReadableSpan['attributes'] {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => allowed.has(key)));
}

/** The span as it is exported: the same span, with only the allowed attributes and event attributes. */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  const redacted = Object.create(span) as ReadableSpan;
  Object.defineProperty(redacted, 'attributes', { value: keep(span.attributes, KEPT_ATTRIBUTES) });
  Object.defineProperty(redacted, 'events', {
    value: span.events.map((e) => ({ ...e, attributes: e.attributes && keep(e.attributes, KEPT_EVENT_ATTRIBUTES) })),
  });
  Object.defineProperty(redacted, 'status', {
    // An error status's message is the error's message: the same rule as for events.
    value: { code: span.status.code },
  });
  return redacted;
}

function redactingExporter(inner: SpanExporter): SpanExporter {
  return {
    export: (spans, done) => inner.export(spans.map(redactSpan), done),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Requests that are not worth a trace: the kubelet's probes every few seconds, and Prometheus' scrapes. */
const UNTRACED_PATHS = /^\/(health\/(liveness|readiness|startup)|metrics)(\?|$)/;

/** What telemetry.ts asks for (its types are not imported here: it imports this module). */
interface OpenTelemetryOptions {
  endpoint: string;
  sampleRatio: number;
  serviceName: string;
  serviceVersion: string;
  environment: string;
}

export async function startOpenTelemetry(options: OpenTelemetryOptions) {
  // ESM: express, pg and ioredis are imported by our ES modules, which only a loader hook can patch. The message
  // channel limits the hook to the modules the instrumentations below ask for.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
      'deployment.environment.name': options.environment,
    }),
    // Every span costs CPU and bytes (docs/performance.md): a ratio below 1 keeps that share of the traces that start
    // here, whole; a request that arrives with a caller's decision follows it, so a trace is never cut in two.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(redactingExporter(exporter))],
  });
  // The AsyncLocalStorage context manager and W3C trace-context propagation (a caller's traceparent is continued).
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        // Outgoing calls are traced inside a request or a job only (not the SDKs' own background calls).
        requireParentforOutgoingSpans: true,
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // Queries outside a request or a job (readiness checks, the pool's own) would each be a trace of their own.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command alone: keys hold client addresses, account ids and email hashes; values hold tokens.
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
  await waitForAllMessagesAcknowledged();

  const tracer = provider.getTracer('mingus-api');
  return {
    logFields() {
      const context = trace.getActiveSpan()?.spanContext();
      return context && isSpanContextValid(context)
        ? { trace_id: context.traceId, span_id: context.spanId }
        : undefined;
    },
    traceJob<T>(job: { name: string; queue: string; attempt: number }, run: () => Promise<T>): Promise<T> {
      return tracer.startActiveSpan(
        `job ${job.name}`,
        {
          kind: SpanKind.CONSUMER,
          root: true,
          attributes: {
            'messaging.system': 'bullmq',
            'messaging.destination.name': job.queue,
            'messaging.operation.type': 'process',
            'mingus.job.name': job.name,
            'mingus.job.attempt': job.attempt,
          },
        },
        async (span) => {
          try {
            return await run();
          } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.setAttribute('error.type', (err as Error)?.name ?? 'Error');
            throw err;
          } finally {
            span.end();
          }
        },
      );
    },
    async shutdown(deadlineMs: number) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
