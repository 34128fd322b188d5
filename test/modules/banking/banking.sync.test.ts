import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../../support/auth.js';
import { startTestJobs } from '../../support/jobs.js';
import { fakeAccount, fakeTransaction } from '../../support/plaid-server.js';
import {
  type BankTestApp,
  bankSync,
  link,
  NOW,
  professional,
  silent,
  startBankApp,
  transactionsOf,
} from './banking.helpers.js';

let app: BankTestApp;
beforeAll(async () => {
  app = await startBankApp();
});
afterAll(() => app.close());

const itemRow = (id: string) => app.t.db.prisma.plaidItem.findUniqueOrThrow({ where: { id } });

describe('syncing transactions', () => {
  it('when Plaid has three pages, applies every page and saves the final cursor', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_pages', [account]);
    for (let i = 0; i < 7; i += 1) {
      app.plaid.add(plaidItemId, fakeTransaction(account.account_id, { transaction_id: `p_${i}`, amount: i + 0.29 }));
    }
    const before = app.plaid.requestsTo('/transactions/sync').length;
    expect(await bankSync(app, 3).run(item.id, silent)).toBe('synced');

    expect(app.plaid.requestsTo('/transactions/sync').length - before).toBe(3);
    const stored = await transactionsOf(app.t, user.id);
    expect(stored.map((t) => [t.plaidTransactionId, t.amountCents])).toEqual(
      Array.from({ length: 7 }, (_, i) => [`p_${i}`, -BigInt(i * 100 + 29)]),
    );
    const row = await itemRow(item.id);
    expect(row.transactionsCursor).toBe('c7');
    expect(row.syncPageCursor).toBeNull();
    expect(row.lastSyncedAt).toEqual(NOW);
    expect(row.syncLeaseId).toBeNull();
  });

  it('when transactions are modified and removed, the next sync updates and deletes them', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_changes', [account]);
    const pending = fakeTransaction(account.account_id, { transaction_id: 'm_1', amount: 20, pending: true });
    app.plaid.add(plaidItemId, pending, fakeTransaction(account.account_id, { transaction_id: 'm_2', amount: 5 }));
    await bankSync(app).run(item.id, silent);

    app.plaid.modify(plaidItemId, { ...pending, amount: 21.5, pending: false, name: 'Groceries' });
    app.plaid.remove(plaidItemId, 'm_2');
    await bankSync(app).run(item.id, silent);

    const stored = await transactionsOf(app.t, user.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      plaidTransactionId: 'm_1',
      amountCents: -2150n,
      pending: false,
      name: 'Groceries',
    });
  });

  it('when Plaid answers a mutation during pagination, restarts from the last complete cursor and ends consistent', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_mutation', [account]);
    for (let i = 0; i < 5; i += 1)
      app.plaid.add(plaidItemId, fakeTransaction(account.account_id, { transaction_id: `u_${i}` }));
    app.plaid.mutateDuringNextPagination();
    const before = app.plaid.requestsTo('/transactions/sync').length;
    expect(await bankSync(app, 2).run(item.id, silent)).toBe('synced');

    const calls = app.plaid.requestsTo('/transactions/sync').slice(before);
    // Page 1 (no cursor), page 2 refused, then the whole update again from the start: 3 pages.
    expect(calls.map((c) => c.body.cursor ?? null)).toEqual([null, 'c2', null, 'c2', 'c4']);
    expect((await transactionsOf(app.t, user.id)).map((t) => t.plaidTransactionId)).toEqual([
      'u_0',
      'u_1',
      'u_2',
      'u_3',
      'u_4',
    ]);
    expect((await itemRow(item.id)).transactionsCursor).toBe('c5');
  });

  it('when amounts have no exact float form, stores them as exact cents (0.1, 0.29, -1234.565, large)', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_cents', [account]);
    const amounts = [0.1, 0.29, -1234.565, 9_999_999_999_999.99];
    amounts.forEach((amount, i) => {
      app.plaid.add(plaidItemId, fakeTransaction(account.account_id, { transaction_id: `e_${i}`, amount }));
    });
    await bankSync(app).run(item.id, silent);
    expect((await transactionsOf(app.t, user.id)).map((t) => t.amountCents)).toEqual([
      -10n,
      -29n,
      123457n,
      -999_999_999_999_999n,
    ]);
  });

  it('when two syncs of one item start together, only one talks to Plaid and the other makes it pass once more', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_concurrent', [account]);
    app.plaid.add(plaidItemId, fakeTransaction(account.account_id, { transaction_id: 'k_1' }));
    const before = app.plaid.requestsTo('/transactions/sync').length;
    const release = app.plaid.holdSyncs();
    const first = bankSync(app).run(item.id, silent);
    await expect.poll(() => app.plaid.requestsTo('/transactions/sync').length - before).toBe(1);
    expect(await bankSync(app).run(item.id, silent)).toBe('busy');
    expect(app.plaid.requestsTo('/transactions/sync').length - before).toBe(1);
    release();
    expect(await first).toBe('synced');
    // The second request became one more pass of the first sync, after it: two calls, never two at once.
    expect(app.plaid.requestsTo('/transactions/sync').length - before).toBe(2);
    expect(await transactionsOf(app.t, user.id)).toHaveLength(1);
  });

  it('when Plaid says the login must be repaired, marks the item login_required, audits it and stops', async () => {
    const user = await professional(app.t);
    const { item } = await link(app, user, 'ins_login');
    app.plaid.failures.set('/transactions/sync', {
      status: 400,
      error_type: 'ITEM_ERROR',
      error_code: 'ITEM_LOGIN_REQUIRED',
    });
    try {
      expect(await bankSync(app).run(item.id, silent)).toBe('item-error');
    } finally {
      app.plaid.failures.clear();
    }
    expect(await itemRow(item.id)).toMatchObject({ status: 'login_required', errorCode: 'ITEM_LOGIN_REQUIRED' });
    const audit = await app.t.db.prisma.auditLog.findFirst({ where: { userId: user.id, action: 'bank.sync_failed' } });
    expect(audit?.fields).toEqual(['error:ITEM_LOGIN_REQUIRED']);
  });

  it('when POST /sync is called, answers 202 with the job, and the worker syncs the item', async () => {
    const user = await professional(app.t);
    const account = fakeAccount();
    const { item, plaidItemId } = await link(app, user, 'ins_job', [account]);
    app.plaid.add(plaidItemId, fakeTransaction(account.account_id, { transaction_id: 'j_1' }));
    const jobs = await startTestJobs(app.t, { now: () => NOW });
    try {
      const res = await request(app.t.app).post(`/api/v1/banking/items/${item.id}/sync`).set(bearer(user.accessToken));
      expect(res.status).toBe(202);
      expect(res.body.jobId).toMatch(new RegExp(`^banking\\.sync\\.${item.id}\\.manual-`));
      expect(['waiting', 'active', 'completed', 'delayed']).toContain(res.body.state);
      await expect.poll(async () => (await transactionsOf(app.t, user.id)).length, { timeout: 15_000 }).toBe(1);
      const other = await professional(app.t);
      const theirs = await request(app.t.app)
        .post(`/api/v1/banking/items/${item.id}/sync`)
        .set(bearer(other.accessToken));
      expect(theirs.status).toBe(404);
    } finally {
      await jobs.close();
    }
  });
});
