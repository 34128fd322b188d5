import request from 'supertest';
import { createAuditLog } from '../../../src/modules/audit/audit.port.js';
import { createBankSync } from '../../../src/modules/banking/banking.sync.js';
import { createFieldCipher } from '../../../src/platform/crypto.js';
import { createLogger } from '../../../src/platform/logger.js';
import { createPlaid } from '../../../src/platform/plaid.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';
import {
  type FakeAccount,
  fakeAccount,
  type PlaidServer,
  plaidEnv,
  startPlaidServer,
} from '../../support/plaid-server.js';

export const NOW = new Date('2024-11-25T12:00:00.000Z');
export const nowSeconds = () => Math.floor(NOW.getTime() / 1000);

export interface BankTestApp {
  t: TestApp;
  plaid: PlaidServer;
  close(): Promise<void>;
}

export async function startBankApp(options: TestAppOptions = {}): Promise<BankTestApp> {
  const plaid = await startPlaidServer();
  const t = await startTestApp({ now: () => NOW, ...options, env: { ...plaidEnv(plaid), ...options.env } });
  return {
    t,
    plaid,
    async close() {
      await t.close();
      await plaid.close();
    },
  };
}

/** A user on the professional plan (the one that sells bank links), as the Stripe webhook would leave it. */
export async function professional(t: TestApp): Promise<SignedInUser> {
  const user = await registerUser(t);
  await t.db.pool.query(
    `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status, current_period_end)
     VALUES ($1, $2, $3, 'professional', 'active', $4)`,
    [user.id, `cus_${user.id.slice(0, 8)}`, `sub_${user.id.slice(0, 8)}`, new Date(NOW.getTime() + 30 * 86_400_000)],
  );
  return user;
}

/** Links an institution through the API; answers the item as the API shows it and Plaid's item id. */
export async function link(
  app: BankTestApp,
  user: SignedInUser,
  institutionId = 'ins_109508',
  accounts?: FakeAccount[],
) {
  const publicToken = app.plaid.publicToken(institutionId, accounts ?? [fakeAccount()]);
  const res = await request(app.t.app)
    .post('/api/v1/banking/items')
    .set(bearer(user.accessToken))
    .send({ publicToken });
  if (res.status !== 201) throw new Error(`link failed: ${res.status} ${JSON.stringify(res.body)}`);
  const row = await app.t.db.prisma.plaidItem.findUniqueOrThrow({ where: { id: res.body.id } });
  return { item: res.body as { id: string; status: string }, plaidItemId: row.plaidItemId };
}

/** The sync as the worker builds it, on the app's database and the fake Plaid (a page size tests choose). */
export function bankSync(app: BankTestApp, pageSize = 500) {
  const settings = app.t.config.banking.plaid;
  if (!settings) throw new Error('bank links not configured');
  return createBankSync({
    db: app.t.db,
    plaid: createPlaid(settings),
    cipher: createFieldCipher(app.t.config.fieldEncryption),
    auditLog: createAuditLog(),
    now: () => NOW,
    pageSize,
  });
}

export const silent = createLogger({ level: 'silent' });

export const transactionsOf = (t: TestApp, userId: string) =>
  t.db.prisma.bankTransaction.findMany({ where: { userId }, orderBy: { plaidTransactionId: 'asc' } });
