import { clientOf, type Queryable } from '../../platform/db-access.js';
import type { PlanId } from './subscriptions.plans.js';

export interface SubscriptionRow {
  id: string;
  userId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  plan: PlanId | null;
  status: string;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  pastDueSince: Date | null;
  stripeObjectUpdatedAt: Date | null;
}

const ROW = {
  id: true,
  userId: true,
  stripeCustomerId: true,
  stripeSubscriptionId: true,
  plan: true,
  status: true,
  currentPeriodEnd: true,
  cancelAtPeriodEnd: true,
  pastDueSince: true,
  stripeObjectUpdatedAt: true,
} as const;

export function findSubscriptionOfUser(db: Queryable, userId: string): Promise<SubscriptionRow | null> {
  return clientOf(db).subscription.findUnique({ where: { userId }, select: ROW });
}

/** What an entitlement check needs: one lookup on the unique index of user_id, on every gated request. */
export function findAccessOfUser(db: Queryable, userId: string) {
  return clientOf(db).subscription.findUnique({
    where: { userId },
    select: { plan: true, status: true, pastDueSince: true, cancelAtPeriodEnd: true, currentPeriodEnd: true },
  });
}

/**
 * Stores the user's Stripe customer unless one is stored already (ON CONFLICT DO NOTHING on either unique column):
 * of two checkouts racing, one insert wins and the other finds the winner's customer. False when a row existed.
 */
export async function insertCustomerOnce(db: Queryable, userId: string, stripeCustomerId: string): Promise<boolean> {
  const { count } = await clientOf(db).subscription.createMany({
    data: [{ userId, stripeCustomerId }],
    skipDuplicates: true,
  });
  return count === 1;
}

/**
 * The row of a Stripe customer, locked until the transaction ends, so two events about one customer apply one
 * after the other and each compares against what the other wrote.
 */
export async function lockSubscriptionOfCustomer(
  tx: Queryable,
  stripeCustomerId: string,
): Promise<SubscriptionRow | null> {
  const locked = await clientOf(tx).$queryRaw<unknown[]>`
    SELECT 1 FROM subscriptions WHERE stripe_customer_id = ${stripeCustomerId} FOR UPDATE`;
  if (locked.length === 0) return null;
  return clientOf(tx).subscription.findUnique({ where: { stripeCustomerId }, select: ROW });
}

export interface SubscriptionState {
  stripeSubscriptionId: string;
  plan: PlanId | null;
  status: string;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  pastDueSince: Date | null;
  stripeObjectUpdatedAt: Date;
}

export async function updateSubscriptionState(tx: Queryable, id: string, state: SubscriptionState): Promise<void> {
  await clientOf(tx).subscription.update({ where: { id }, data: state, select: { id: true } });
}

/**
 * Marks a Stripe event as applied. Inside the transaction of its effect: a concurrent delivery of the same event
 * waits on the primary key until this transaction ends, then finds it (false) or, if this one rolled back, takes
 * over. So an event is applied once, however many deliveries race.
 */
export async function claimStripeEvent(tx: Queryable, id: string, type: string): Promise<boolean> {
  const { count } = await clientOf(tx).stripeEvent.createMany({ data: [{ id, type }], skipDuplicates: true });
  return count === 1;
}

export async function stripeEventSeen(db: Queryable, id: string): Promise<boolean> {
  return (await clientOf(db).stripeEvent.findUnique({ where: { id }, select: { id: true } })) !== null;
}

export interface InvoiceState {
  userId: string;
  stripeInvoiceId: string;
  amountDueCents: number;
  amountPaidCents: number;
  currency: string;
  status: string;
  periodStart: Date | null;
  periodEnd: Date | null;
}

/** Inserts the invoice, or returns the status stored for it (locked for the rest of the transaction). */
export async function insertInvoiceOrLock(tx: Queryable, invoice: InvoiceState): Promise<string | undefined> {
  const { count } = await clientOf(tx).billingInvoice.createMany({ data: [invoice], skipDuplicates: true });
  if (count === 1) return undefined;
  const rows = await clientOf(tx).$queryRaw<{ status: string }[]>`
    SELECT status FROM billing_invoices WHERE stripe_invoice_id = ${invoice.stripeInvoiceId} FOR UPDATE`;
  return rows[0]?.status;
}

export async function updateInvoice(tx: Queryable, invoice: InvoiceState): Promise<void> {
  const { stripeInvoiceId, userId: _owner, ...data } = invoice;
  await clientOf(tx).billingInvoice.update({ where: { stripeInvoiceId }, data, select: { id: true } });
}

export function listInvoicesOfUser(db: Queryable, userId: string) {
  return clientOf(db).billingInvoice.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: {
      amountDueCents: true,
      amountPaidCents: true,
      currency: true,
      status: true,
      periodStart: true,
      periodEnd: true,
      createdAt: true,
    },
  });
}

export async function deleteBillingOfUser(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).billingInvoice.deleteMany({ where: { userId } });
  await clientOf(tx).subscription.deleteMany({ where: { userId } });
}

/** Deletes up to `batch` records of webhook events applied over `days` days ago; answers how many. */
export function purgeStripeEventsOlderThan(db: Queryable, days: number, batch: number, now: Date): Promise<number> {
  return clientOf(db).$executeRaw`DELETE FROM stripe_events WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM stripe_events WHERE processed_at < ${now}::timestamptz - make_interval(days => ${days}) LIMIT ${batch}))`;
}
