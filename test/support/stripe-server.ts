import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A small Stripe-compatible HTTP server for tests: the official SDK is pointed at it (STRIPE_API_URL) and it
 * implements only what the service calls — customers create/delete, Checkout and billing portal sessions,
 * subscriptions retrieve/list/cancel — answering in Stripe's wire format (form-encoded requests, JSON answers,
 * `{error: {type, code, message}}` failures) and recording every request. Tests set the subscriptions it holds.
 */

export const TEST_STRIPE_KEY = 'sk_test_localserver0001';
export const TEST_WEBHOOK_SECRET = 'whsec_localtestsecret0000000001';
export const TEST_PRICES = { budget: 'price_budget001', mid_tier: 'price_midtier001', professional: 'price_pro001' };

/** The environment that points the application at `server`. */
export function billingEnv(server: StripeServer): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_PRICE_BUDGET: TEST_PRICES.budget,
    STRIPE_PRICE_MID_TIER: TEST_PRICES.mid_tier,
    STRIPE_PRICE_PROFESSIONAL: TEST_PRICES.professional,
    STRIPE_API_URL: server.url,
    BILLING_SUCCESS_URL: 'https://app.mingus.test/billing/success',
    BILLING_CANCEL_URL: 'https://app.mingus.test/billing/cancel',
    BILLING_PORTAL_RETURN_URL: 'https://app.mingus.test/settings/billing',
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Form fields as sent, with Stripe's bracket keys kept flat: `line_items[0][price]`. */
  form: Record<string, string>;
  idempotencyKey: string | undefined;
}

export interface FakeCustomer {
  id: string;
  email: string | undefined;
  name: string | undefined;
  metadata: Record<string, string>;
  deleted: boolean;
}

export interface StripeServer {
  url: string;
  requests: RecordedRequest[];
  customers: Map<string, FakeCustomer>;
  /** Replaces or adds a subscription, as Stripe will return it from now on. */
  setSubscription(subscription: Stripe.Subscription): void;
  subscription(id: string): Stripe.Subscription | undefined;
  /**
   * Stripe replays the first answer to a repeated Idempotency-Key for 24 hours; false simulates a key Stripe no
   * longer remembers, so every request creates anew.
   */
  honourIdempotencyKeys: boolean;
  /** Requests matching `METHOD /path` (e.g. `GET /v1/subscriptions/sub_1`) answer this status until cleared. */
  failures: Map<string, number>;
  requestsTo(method: string, path: string): RecordedRequest[];
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const missing = (what: string, key: string) =>
  new StripeApiError(404, 'invalid_request_error', 'resource_missing', `No such ${what}: '${key}'`);

export async function startStripeServer(): Promise<StripeServer> {
  const customers = new Map<string, FakeCustomer>();
  const subscriptions = new Map<string, Stripe.Subscription>();
  const requests: RecordedRequest[] = [];
  const replies = new Map<string, { form: string; status: number; body: unknown }>();

  function handle(req: RecordedRequest): { status: number; body: unknown } {
    const { method, path, form } = req;
    const customerPath = /^\/v1\/customers\/([^/]+)$/.exec(path)?.[1];
    const subscriptionPath = /^\/v1\/subscriptions\/([^/]+)$/.exec(path)?.[1];
    if (method === 'POST' && path === '/v1/customers') {
      const customer: FakeCustomer = {
        id: id('cus'),
        email: form.email,
        name: form.name,
        metadata: pick(form, 'metadata'),
        deleted: false,
      };
      customers.set(customer.id, customer);
      return ok({ id: customer.id, object: 'customer', email: customer.email ?? null, metadata: customer.metadata });
    }
    if (method === 'DELETE' && customerPath) {
      const customer = customers.get(customerPath);
      if (!customer || customer.deleted) throw missing('customer', customerPath);
      customer.deleted = true;
      // As Stripe does: deleting a customer cancels its subscriptions at once.
      for (const sub of subscriptions.values()) {
        if (sub.customer === customer.id && sub.status !== 'canceled') cancel(sub);
      }
      return ok({ id: customer.id, object: 'customer', deleted: true });
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const customer = customers.get(form.customer ?? '');
      if (!customer || customer.deleted) throw missing('customer', form.customer ?? '');
      const session = id('cs_test');
      return ok({
        id: session,
        object: 'checkout.session',
        mode: form.mode,
        customer: customer.id,
        client_reference_id: form.client_reference_id ?? null,
        success_url: form.success_url,
        cancel_url: form.cancel_url,
        url: `https://checkout.stripe.test/c/pay/${session}`,
      });
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const customer = customers.get(form.customer ?? '');
      if (!customer || customer.deleted) throw missing('customer', form.customer ?? '');
      const session = id('bps');
      return ok({
        id: session,
        object: 'billing_portal.session',
        customer: customer.id,
        return_url: form.return_url,
        url: `https://billing.stripe.test/p/session/${session}`,
      });
    }
    if (method === 'GET' && path === '/v1/subscriptions') {
      const limit = Number(req.query.limit ?? 10);
      const status = req.query.status;
      // Newest first, as Stripe lists; without `status`, canceled ones are left out.
      let all = [...subscriptions.values()]
        .filter((s) => (status === 'all' ? true : status ? s.status === status : s.status !== 'canceled'))
        .filter((s) => !req.query.customer || s.customer === req.query.customer)
        .sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
      if (req.query.starting_after) {
        const at = all.findIndex((s) => s.id === req.query.starting_after);
        all = all.slice(at + 1);
      }
      return ok({ object: 'list', url: '/v1/subscriptions', data: all.slice(0, limit), has_more: all.length > limit });
    }
    if (subscriptionPath) {
      const sub = subscriptions.get(subscriptionPath);
      if (!sub) throw missing('subscription', subscriptionPath);
      if (method === 'GET') return ok(sub);
      if (method === 'DELETE') {
        if (sub.status === 'canceled') {
          throw new StripeApiError(400, 'invalid_request_error', undefined, 'This subscription is already canceled');
        }
        return ok(cancel(sub));
      }
    }
    throw new StripeApiError(404, 'invalid_request_error', undefined, `Unrecognized request URL (${method}: ${path})`);
  }

  function cancel(sub: Stripe.Subscription): Stripe.Subscription {
    const now = Math.floor(Date.now() / 1000);
    const canceled = { ...sub, status: 'canceled', canceled_at: now, ended_at: now } as Stripe.Subscription;
    subscriptions.set(sub.id, canceled);
    return canceled;
  }

  const server = createServer((incoming, res) => {
    readBody(incoming).then(
      (raw) => {
        const url = new URL(incoming.url ?? '/', 'http://localhost');
        const recorded: RecordedRequest = {
          method: incoming.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          form: Object.fromEntries(new URLSearchParams(raw)),
          idempotencyKey: header(incoming, 'idempotency-key'),
        };
        requests.push(recorded);
        if (header(incoming, 'authorization') !== `Bearer ${TEST_STRIPE_KEY}`) {
          return send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
        }
        const failure = fake.failures.get(`${recorded.method} ${recorded.path}`);
        if (failure) return send(res, failure, { error: { type: 'api_error', message: 'Injected failure' } });
        // Only keys the service chose itself: the SDK's own retry keys are unique per call anyway.
        const key = recorded.idempotencyKey;
        const replay = key && fake.honourIdempotencyKeys ? replies.get(key) : undefined;
        if (replay) {
          if (replay.form !== raw) {
            return send(res, 400, {
              error: {
                type: 'idempotency_error',
                message: 'Keys for idempotent requests can only be used with the same parameters',
              },
            });
          }
          return send(res, replay.status, replay.body);
        }
        let answer: { status: number; body: unknown };
        try {
          answer = handle(recorded);
        } catch (err) {
          if (!(err instanceof StripeApiError)) throw err;
          answer = { status: err.status, body: { error: { type: err.type, code: err.code, message: err.message } } };
        }
        if (key && recorded.method === 'POST') replies.set(key, { form: raw, ...answer });
        send(res, answer.status, answer.body);
      },
      (err: unknown) => send(res, 500, { error: { type: 'api_error', message: String(err) } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: StripeServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    honourIdempotencyKeys: true,
    failures: new Map(),
    setSubscription(subscription) {
      subscriptions.set(subscription.id, subscription);
    },
    subscription: (key) => subscriptions.get(key),
    requestsTo: (method, path) => requests.filter((r) => r.method === method && r.path === path),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return fake;
}

export interface SubscriptionInit {
  id?: string;
  customer: string;
  status: Stripe.Subscription.Status;
  price: string;
  /** Unix seconds. */
  currentPeriodEnd?: number;
  cancelAtPeriodEnd?: boolean;
  /** Unix seconds; orders the list newest first. */
  created?: number;
}

/** A subscription as Stripe's API (version 2025-03-31 and later) returns it, with the fields this service reads. */
export function subscriptionObject(init: SubscriptionInit): Stripe.Subscription {
  const now = Math.floor(Date.now() / 1000);
  const subscriptionId = init.id ?? id('sub');
  const periodEnd = init.currentPeriodEnd ?? now + 30 * 86_400;
  return {
    id: subscriptionId,
    object: 'subscription',
    customer: init.customer,
    status: init.status,
    created: init.created ?? now,
    cancel_at_period_end: init.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: init.status === 'canceled' ? now : null,
    ended_at: init.status === 'canceled' ? now : null,
    currency: 'usd',
    livemode: false,
    metadata: {},
    items: {
      object: 'list',
      url: `/v1/subscription_items?subscription=${subscriptionId}`,
      has_more: false,
      data: [
        {
          id: id('si'),
          object: 'subscription_item',
          subscription: subscriptionId,
          quantity: 1,
          current_period_start: periodEnd - 30 * 86_400,
          current_period_end: periodEnd,
          price: { id: init.price, object: 'price', currency: 'usd', recurring: { interval: 'month' } },
        },
      ],
    },
  } as unknown as Stripe.Subscription;
}

export interface InvoiceInit {
  id?: string;
  customer: string;
  subscription: string;
  status: Stripe.Invoice.Status;
  amountDueCents: number;
  amountPaidCents: number;
  /** Unix seconds. */
  periodStart: number;
  periodEnd: number;
}

/** An invoice as it appears in `invoice.*` events (API version 2025-03-31 and later: the subscription under parent). */
export function invoiceObject(init: InvoiceInit): Stripe.Invoice {
  return {
    id: init.id ?? id('in'),
    object: 'invoice',
    customer: init.customer,
    status: init.status,
    currency: 'usd',
    amount_due: init.amountDueCents,
    amount_paid: init.amountPaidCents,
    period_start: init.periodStart,
    period_end: init.periodEnd,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { subscription: init.subscription, metadata: {} },
    },
  } as unknown as Stripe.Invoice;
}

export interface SignedEvent {
  id: string;
  payload: string;
  signature: string;
}

/**
 * An event as Stripe delivers it, signed with the SDK's own test helper. `at` (the application's "now") sets both
 * the event's `created` and the signature's timestamp; `secret` and `timestamp` let tests sign wrongly.
 */
export function signedEvent(
  type: string,
  object: unknown,
  options: { at?: Date; id?: string; secret?: string; timestamp?: number } = {},
): SignedEvent {
  const at = Math.floor((options.at ?? new Date()).getTime() / 1000);
  const eventId = options.id ?? id('evt');
  const payload = JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: at,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? TEST_WEBHOOK_SECRET,
    timestamp: options.timestamp ?? at,
  });
  return { id: eventId, payload, signature };
}

function ok(body: unknown) {
  return { status: 200, body };
}

function pick(form: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) {
    const m = new RegExp(`^${prefix}\\[([^\\]]+)\\]$`).exec(key);
    if (m) out[m[1] as string] = value;
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': id('req') });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
