import type { ErrorEvent } from '@sentry/node';

export interface SentryOptions {
  /** Unset: nothing is reported and the SDK is not even loaded. */
  dsn: string | undefined;
  environment: string;
  release: string;
}

/** What the problem handler knows of a failed request; the report keeps only what `scrubEvent` allows. */
export interface FailedRequest {
  id: string;
  method: string;
  /** The original URL; its query string is dropped before sending (it may hold tokens). */
  url: string;
  /** The route template (`/api/v1/checkins/:id`): Sentry groups issues by it. */
  route: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface ErrorReporter {
  readonly enabled: boolean;
  /** A request answered 5xx: its error, tagged with the request id. 4xx answers are never reported. */
  captureRequestError(err: unknown, request: FailedRequest): void;
  /** An uncaught exception or unhandled rejection, about to stop the process. */
  captureCrash(err: unknown): void;
  /** A job that failed for good for an undeclared reason (a bug, not an SMTP refusal): tagged with its id and name. */
  captureJobError(err: unknown, job: { id: string; name: string }): void;
  /** Sends what is queued (waiting at most `timeoutMs`) and stops the client; part of shutdown. */
  close(timeoutMs: number): Promise<void>;
}

export const disabledErrorReporter: ErrorReporter = {
  enabled: false,
  captureRequestError() {},
  captureCrash() {},
  captureJobError() {},
  close: async () => {},
};

/** Request headers worth having on a report; everything else (authorization, cookie, x-csrf-token,
 * stripe-signature, plaid-verification, forwarding and IP headers, …) is dropped. */
const KEPT_HEADERS = new Set(['accept', 'content-length', 'content-type', 'user-agent', 'x-client', 'x-request-id']);

/**
 * The last word on what leaves the process (`beforeSend`), whatever the SDK's own `dataCollection` filtering does: no
 * request body, cookies, query string or credential header, and of the user at most an opaque id (no IP, no email).
 */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  const { request } = event;
  if (request) {
    delete request.data;
    delete request.cookies;
    delete request.query_string;
    delete request.env;
    if (request.url) request.url = request.url.replace(/[?#].*$/s, '');
    if (request.headers) {
      request.headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => KEPT_HEADERS.has(name.toLowerCase())),
      );
    }
  }
  if (event.user) event.user = event.user.id === undefined ? {} : { id: event.user.id };
  return event;
}

/**
 * Sentry when SENTRY_DSN is set, a no-op otherwise. Errors only: no tracing, no OpenTelemetry, no diagnostics-channel
 * injection, no HTTP instrumentation and no global handlers (main.ts reports crashes itself and owns the exit), so a
 * request costs nothing until it fails. Initialised at run time from ESM, without `--import`: error capture needs no
 * module patching. The SDK is process-global; call this once per process.
 */
export async function createErrorReporter(options: SentryOptions): Promise<ErrorReporter> {
  if (!options.dsn) return disabledErrorReporter;
  // Loaded only when configured: importing the SDK alone takes a few hundred milliseconds.
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn: options.dsn,
    release: options.release,
    environment: options.environment,
    // v11 replaced `sendDefaultPii: false` with `dataCollection`, whose defaults collect more: close every category.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: { request: { allow: [...KEPT_HEADERS] }, response: false },
      httpBodies: [],
      urlQueryParams: false,
      databaseQueryData: false,
      queues: false,
      stackFrameVariables: false,
      genAI: { inputs: false, outputs: false },
      mcp: { inputs: false, outputs: false },
    },
    enableRuntimeChannelInjection: false,
    enableOpenTelemetrySetup: false,
    sendClientReports: false,
    defaultIntegrations: false,
    integrations: [
      Sentry.eventFiltersIntegration(),
      Sentry.linkedErrorsIntegration(), // follows `cause`
      Sentry.dedupeIntegration(),
      Sentry.requestDataIntegration(), // turns the request below into `event.request`, then scrubbed
      Sentry.nodeContextIntegration(),
      Sentry.contextLinesIntegration(),
    ],
    beforeSend: scrubEvent,
  });

  return {
    enabled: true,
    captureRequestError(err, request) {
      Sentry.captureException(err, (scope) =>
        scope
          .setTag('request_id', request.id)
          .setTag('route', request.route)
          .setTransactionName(`${request.method} ${request.route}`)
          .setSDKProcessingMetadata({
            normalizedRequest: { method: request.method, url: request.url, headers: flatten(request.headers) },
          }),
      );
    },
    captureCrash(err) {
      Sentry.captureException(err, { level: 'fatal', tags: { crash: 'true' } });
    },
    captureJobError(err, job) {
      Sentry.captureException(err, (scope) =>
        scope.setTag('job_id', job.id).setTag('job', job.name).setTransactionName(`job ${job.name}`),
      );
    },
    async close(timeoutMs) {
      await Sentry.close(timeoutMs);
    },
  };
}

function flatten(headers: FailedRequest['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
