import type Stripe from 'stripe';
import { ValidationError } from '../../http/errors.js';
import type { Db, Queryable } from '../../platform/db-handle.js';
import { sampledWarning } from '../../platform/log-sampling.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics, WebhookFailureReason } from '../../platform/metrics.js';
import { isStripeMissing, isStripeSignatureError, type StripeClient } from '../../platform/stripe.js';
import type { AuditLog } from '../audit/audit.port.js';
import {
  claimStripeEvent,
  type InvoiceState,
  insertInvoiceOrLock,
  lockSubscriptionOfCustomer,
  stripeEventSeen,
  updateInvoice,
} from './subscriptions.repo.js';
import type { WebhookAck } from './subscriptions.schemas.js';
import { type BillingConfig, billingNotConfigured } from './subscriptions.service.js';
import { applyStripeSubscription } from './subscriptions.sync.js';

/**
 * Stripe's own default, and what its guides ask for: an older signed delivery is a replay. The same bound applies
 * ahead of the clock: a delivery dated in the future would stay replayable for longer than the window.
 */
const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * The timestamp the signature covers, read as the SDK reads it (the last `t=` of the header, `parseInt`), so that what
 * is checked here is what was signed. NaN when there is none.
 */
function signedTimestamp(header: string): number {
  let timestamp = Number.NaN;
  for (const item of header.split(',')) {
    const [name, value] = item.split('=');
    if (name === 't') timestamp = Number.parseInt(value ?? '', 10);
  }
  return timestamp;
}

/** Later invoice states win over earlier ones whatever the order of arrival (`void` and `paid` are final). */
const INVOICE_RANK: Record<string, number> = { draft: 0, open: 1, uncollectible: 2, paid: 3, void: 3 };

type Outcome = WebhookAck['outcome'];

interface Work {
  subscription?: Stripe.Subscription | undefined;
  invoice?: Stripe.Invoice;
}

export type StripeWebhooks = ReturnType<typeof createStripeWebhooks>;

export function createStripeWebhooks(deps: {
  db: Db;
  auditLog: AuditLog;
  billing: BillingConfig;
  stripe: StripeClient | undefined;
  logger: Logger;
  metrics: Pick<Metrics, 'webhookEvent' | 'webhookFailure'>;
  now: () => Date;
}) {
  const { db, auditLog, billing, logger, metrics, now } = deps;
  // Forged calls can come by the thousand: one short line a minute per reason, the exact count in the metric.
  const warnRefused = sampledWarning(logger, 'Stripe webhook refused', { now });

  function refuse(reason: WebhookFailureReason, error: ValidationError): ValidationError {
    metrics.webhookFailure('stripe', reason);
    metrics.webhookEvent('stripe', 'unverified', 'invalid_signature');
    warnRefused(reason, { provider: 'stripe' });
    return error;
  }

  function verify(stripe: StripeClient, secret: string, payload: Buffer, signature: string | undefined): Stripe.Event {
    const invalid = (detail: string) => new ValidationError('invalid-signature', detail);
    if (!signature) throw refuse('missing_signature', invalid('The Stripe-Signature header is missing'));
    let event: Stripe.Event;
    try {
      // Tolerance 0: the SDK checks only the signature. Its own time check looks only into the past (a timestamp
      // ahead of the clock passes), so the window is checked below, both ways, on the application's clock.
      event = stripe.webhooks.constructEvent(payload, signature, secret, 0);
    } catch (err) {
      if (isStripeSignatureError(err)) {
        throw refuse('bad_signature', invalid('The Stripe-Signature header does not match this payload, or is stale'));
      }
      if (err instanceof SyntaxError) {
        throw refuse('malformed_payload', new ValidationError('malformed-json', 'The signed payload is not JSON'));
      }
      throw err;
    }
    const age = Math.floor(now().getTime() / 1000) - signedTimestamp(signature);
    // Written so that a timestamp that is not a number (the SDK refuses those first) counts as stale.
    if (!(age <= SIGNATURE_TOLERANCE_SECONDS)) {
      throw refuse('stale_timestamp', invalid('The Stripe-Signature header does not match this payload, or is stale'));
    }
    if (age < -SIGNATURE_TOLERANCE_SECONDS) {
      throw refuse('future_timestamp', invalid('The Stripe-Signature header is dated ahead of this server'));
    }
    return event;
  }

  /** The current subscription, from Stripe itself: never trust an event's copy, which may be older than the last. */
  async function currentSubscription(
    stripe: StripeClient,
    ref: string | Stripe.Subscription | null | undefined,
    fallback?: Stripe.Subscription,
  ): Promise<Stripe.Subscription | undefined> {
    if (!ref) return undefined;
    const id = typeof ref === 'string' ? ref : ref.id;
    try {
      return await stripe.subscriptions.retrieve(id);
    } catch (err) {
      if (!isStripeMissing(err)) throw err;
      logger.warn({ stripeSubscriptionId: id }, 'Stripe no longer has the subscription of an event');
      return fallback;
    }
  }

  /** What an event asks to apply, read before the transaction so no database connection waits on Stripe. */
  async function workOf(stripe: StripeClient, event: Stripe.Event): Promise<Work | undefined> {
    switch (event.type) {
      case 'checkout.session.completed': {
        const session = event.data.object;
        return {
          subscription: await currentSubscription(
            stripe,
            session.mode === 'subscription' ? session.subscription : null,
          ),
        };
      }
      case 'customer.subscription.deleted':
        // Final: the object in the event is the subscription's last state; nothing newer can exist.
        return { subscription: event.data.object };
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.paused':
      case 'customer.subscription.resumed':
        return { subscription: await currentSubscription(stripe, event.data.object.id, event.data.object) };
      case 'invoice.paid':
      case 'invoice.payment_failed': {
        const invoice = event.data.object;
        return {
          invoice,
          subscription: await currentSubscription(stripe, invoice.parent?.subscription_details?.subscription),
        };
      }
      default:
        return undefined;
    }
  }

  async function applyInvoice(tx: Queryable, invoice: Stripe.Invoice, userId: string | undefined): Promise<void> {
    if (!userId) {
      logger.warn({ stripeInvoiceId: invoice.id }, 'Stripe invoice of a customer with no local row');
      return;
    }
    const state: InvoiceState = {
      userId,
      stripeInvoiceId: invoice.id,
      amountDueCents: invoice.amount_due,
      amountPaidCents: invoice.amount_paid,
      currency: invoice.currency,
      status: invoice.status ?? 'draft',
      periodStart: new Date(invoice.period_start * 1000),
      periodEnd: new Date(invoice.period_end * 1000),
    };
    const stored = await insertInvoiceOrLock(tx, state);
    if (stored !== undefined && (INVOICE_RANK[state.status] ?? 0) >= (INVOICE_RANK[stored] ?? 0)) {
      await updateInvoice(tx, state);
    }
  }

  return {
    /**
     * Verifies and applies one delivery. The event id is claimed in the same transaction as its effect, so the
     * answer (sent after this resolves, that is after the commit) is 2xx only for an event durably applied, and any
     * failure rolls everything back and surfaces as a 5xx for Stripe to retry.
     */
    async receive(payload: Buffer, signature: string | undefined): Promise<Outcome> {
      if (!deps.stripe || !billing.stripe) throw billingNotConfigured();
      const stripe = deps.stripe;
      const { prices, webhookSecret } = billing.stripe;
      const event = verify(stripe, webhookSecret, payload, signature);
      try {
        const outcome = await apply(stripe, prices, event);
        metrics.webhookEvent('stripe', event.type, outcome);
        return outcome;
      } catch (err) {
        metrics.webhookEvent('stripe', event.type, 'failed');
        throw err;
      }
    },
  };

  async function apply(
    stripe: StripeClient,
    prices: NonNullable<BillingConfig['stripe']>['prices'],
    event: Stripe.Event,
  ): Promise<Outcome> {
    const log = logger.child({ stripeEventId: event.id, stripeEventType: event.type });

    if (await stripeEventSeen(db, event.id)) {
      log.info('Stripe event already applied; acknowledged again');
      return 'duplicate';
    }
    // Stamped before Stripe is asked: whatever the answer holds is at least as new as the stamp. Stamped after, a
    // slow answer carrying an older state would outrank a quicker, newer one of a concurrent event.
    const observedAt = now();
    const work = await workOf(stripe, event);
    if (!work) {
      log.info('Stripe event of a type this service does not handle; acknowledged');
      return 'ignored';
    }
    const outcome = await db.transaction(async (tx): Promise<Outcome> => {
      if (!(await claimStripeEvent(tx, event.id, event.type))) return 'duplicate';
      const applied = work.subscription
        ? await applyStripeSubscription(tx, work.subscription, {
            observedAt,
            cause: { targetType: 'stripe_event', targetId: event.id },
            prices,
            logger: log,
            auditLog,
          })
        : undefined;
      if (work.invoice) {
        const customer = work.invoice.customer;
        const customerId = typeof customer === 'string' ? customer : customer?.id;
        const userId =
          applied?.userId ?? (customerId ? (await lockSubscriptionOfCustomer(tx, customerId))?.userId : undefined);
        await applyInvoice(tx, work.invoice, userId);
      }
      return 'applied';
    });
    log.info({ outcome }, 'Stripe event processed');
    return outcome;
  }
}
