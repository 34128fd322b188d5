import Stripe from 'stripe';

export type StripeClient = Stripe;

export interface StripeOptions {
  secretKey: string;
  /** Another Stripe-compatible server (stripe-mock, the tests' local one); absent: api.stripe.com. */
  apiUrl?: string | undefined;
}

/**
 * The official SDK, pinned to the API version its types describe (the SDK's default), so what the code reads from
 * Stripe objects is what the types say. Two retries with the SDK's own idempotency keys cover a lost connection;
 * the timeout is well under Stripe's webhook timeout, so a slow Stripe answer turns into a 5xx Stripe retries
 * rather than into a delivery Stripe gives up on. Nothing to close: the SDK holds no pool of its own.
 */
export function createStripe(options: StripeOptions): StripeClient {
  const target = options.apiUrl ? new URL(options.apiUrl) : undefined;
  const protocol = target?.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(options.secretKey, {
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: 'mingus-api' },
    ...(target ? { host: target.hostname, port: target.port || (protocol === 'http' ? 80 : 443), protocol } : {}),
  });
}

/** Stripe answered that the object does not exist (deleted, or never existed): HTTP 404 `resource_missing`. */
export function isStripeMissing(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeError && (err.statusCode === 404 || err.code === 'resource_missing');
}

export function isStripeSignatureError(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeSignatureVerificationError;
}
