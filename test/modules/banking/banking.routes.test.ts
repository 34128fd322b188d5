import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser } from '../../support/auth.js';
import { fakeAccount, fakeTransaction } from '../../support/plaid-server.js';
import { type BankTestApp, bankSync, link, professional, silent, startBankApp } from './banking.helpers.js';

let app: BankTestApp;
beforeAll(async () => {
  app = await startBankApp();
});
afterAll(() => app.close());

const api = () => request(app.t.app);

describe('banking without Plaid settings', () => {
  let bare: TestApp;
  beforeAll(async () => {
    bare = await startTestApp();
  });
  afterAll(() => bare.close());

  it('when PLAID_* is unset, /banking/* and the Plaid webhook answer 503 banking-not-configured; the rest works', async () => {
    const user = await registerUser(bare);
    for (const res of [
      await request(bare.app).get('/api/v1/banking/accounts').set(bearer(user.accessToken)),
      await request(bare.app).post('/api/v1/banking/link-token').set(bearer(user.accessToken)).send({}),
      await request(bare.app).post('/api/v1/webhooks/plaid').set('Plaid-Verification', 'x').send('{}'),
    ]) {
      expect(res.status).toBe(503);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/banking-not-configured$/);
    }
    expect((await request(bare.app).get('/api/v1/checkins').set(bearer(user.accessToken))).status).toBe(200);
  });
});

describe('linking a bank', () => {
  it('when asked for a Link token, sends Plaid the user, the transactions product, the webhook and the countries', async () => {
    const user = await professional(app.t);
    const res = await api().post('/api/v1/banking/link-token').set(bearer(user.accessToken)).send({});
    expect(res.status).toBe(201);
    expect(res.body.linkToken).toMatch(/^link-sandbox-/);
    const sent = app.plaid.requestsTo('/link/token/create').at(-1)?.body;
    expect(sent).toMatchObject({
      user: { client_user_id: user.id },
      products: ['transactions'],
      country_codes: ['US'],
      webhook: 'https://api.mingus.test/api/v1/webhooks/plaid',
    });
  });

  it('when the public token is exchanged, stores the item with its access token encrypted and never returns it', async () => {
    const user = await professional(app.t);
    const res = await api()
      .post('/api/v1/banking/items')
      .set(bearer(user.accessToken))
      .send({ publicToken: app.plaid.publicToken('ins_1') });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/banking/items/${res.body.id}`);
    expect(res.body).toMatchObject({ institutionId: 'ins_1', institutionName: 'Bank ins_1', status: 'healthy' });
    const row = await app.t.db.prisma.plaidItem.findUniqueOrThrow({ where: { id: res.body.id } });
    const accessToken = app.plaid.itemOf(row.plaidItemId).accessToken;
    expect(row.accessTokenEnc).toMatch(/^v2\./);
    expect(row.accessTokenEnc).not.toContain(accessToken);
    expect(JSON.stringify(res.body)).not.toContain(accessToken);
    expect(app.t.rawLogs()).not.toContain(accessToken);
    const audit = await app.t.db.prisma.auditLog.findFirst({ where: { userId: user.id, action: 'bank.link' } });
    expect(audit?.targetId).toBe(res.body.id);
  });

  it('when the same institution is linked twice, answers 409 naming the existing item and removes the new one at Plaid', async () => {
    const user = await professional(app.t);
    const { item } = await link(app, user, 'ins_twice');
    const res = await api()
      .post('/api/v1/banking/items')
      .set(bearer(user.accessToken))
      .send({ publicToken: app.plaid.publicToken('ins_twice') });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/bank-link-exists$/);
    expect(res.body.detail).toContain(item.id);
    expect(await app.t.db.prisma.plaidItem.count({ where: { userId: user.id } })).toBe(1);
    const second = [...app.plaid.items.values()].filter((i) => i.institutionId === 'ins_twice').at(-1);
    expect(second?.removed).toBe(true);
  });

  it('when Plaid does not know the public token, answers 422 and stores nothing', async () => {
    const user = await professional(app.t);
    const res = await api()
      .post('/api/v1/banking/items')
      .set(bearer(user.accessToken))
      .send({ publicToken: 'public-sandbox-unknown' });
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/invalid-public-token$/);
    expect(await app.t.db.prisma.plaidItem.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when the body is malformed, answers 422 before calling Plaid', async () => {
    const user = await professional(app.t);
    const before = app.plaid.requests.length;
    const res = await api().post('/api/v1/banking/items').set(bearer(user.accessToken)).send({ publicToken: 42 });
    expect(res.status).toBe(422);
    expect(app.plaid.requests.length).toBe(before);
  });

  it('when Plaid is down at the exchange, answers 502 and stores nothing', async () => {
    const user = await professional(app.t);
    app.plaid.failures.set('/item/public_token/exchange', {
      status: 500,
      error_type: 'API_ERROR',
      error_code: 'INTERNAL_SERVER_ERROR',
    });
    try {
      const res = await api()
        .post('/api/v1/banking/items')
        .set(bearer(user.accessToken))
        .send({ publicToken: app.plaid.publicToken('ins_down') });
      expect(res.status).toBe(502);
      expect(res.body.type).toMatch(/banking-upstream-failed$/);
    } finally {
      app.plaid.failures.clear();
    }
    expect(await app.t.db.prisma.plaidItem.count({ where: { userId: user.id } })).toBe(0);
    expect(app.t.rawLogs()).not.toContain('a1b2c3d4e5f60718293a4b5c6d7e8f');
  });
});

describe('listing and unlinking items', () => {
  it("when listed, shows the user's items with status, last sync and error code; another user's item is 404", async () => {
    const ann = await professional(app.t);
    const bob = await professional(app.t);
    const { item } = await link(app, ann, 'ins_list');
    const list = await api().get('/api/v1/banking/items').set(bearer(ann.accessToken));
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({ id: item.id, status: 'healthy', errorCode: null, lastSyncedAt: null }),
    ]);
    expect((await api().get('/api/v1/banking/items').set(bearer(bob.accessToken))).body.data).toEqual([]);
    const theirs = await api().delete(`/api/v1/banking/items/${item.id}`).set(bearer(bob.accessToken));
    expect(theirs.status).toBe(404);
    expect(await app.t.db.prisma.plaidItem.count({ where: { id: item.id } })).toBe(1);
  });

  it('when unlinked, removes the item at Plaid first, then its accounts and transactions', async () => {
    const user = await professional(app.t);
    const { item, plaidItemId } = await link(app, user, 'ins_unlink');
    const [account] = app.plaid.itemOf(plaidItemId).accounts;
    app.plaid.add(plaidItemId, fakeTransaction(account?.account_id ?? ''));
    await bankSync(app).run(item.id, silent);
    expect(await app.t.db.prisma.bankTransaction.count({ where: { userId: user.id } })).toBe(1);

    const res = await api().delete(`/api/v1/banking/items/${item.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(204);
    expect(app.plaid.itemOf(plaidItemId).removed).toBe(true);
    expect(await app.t.db.prisma.plaidItem.count({ where: { id: item.id } })).toBe(0);
    expect(await app.t.db.prisma.bankAccount.count({ where: { userId: user.id } })).toBe(0);
    expect(await app.t.db.prisma.bankTransaction.count({ where: { userId: user.id } })).toBe(0);
    expect(await app.t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'bank.unlink' } })).toBe(1);
  });

  it('when Plaid is down at unlinking, answers 502 and deletes nothing (the user retries)', async () => {
    const user = await professional(app.t);
    const { item, plaidItemId } = await link(app, user, 'ins_unlink_down');
    app.plaid.failures.set('/item/remove', { status: 503, error_type: 'API_ERROR', error_code: 'PLANNED_MAINTENANCE' });
    try {
      const res = await api().delete(`/api/v1/banking/items/${item.id}`).set(bearer(user.accessToken));
      expect(res.status).toBe(502);
    } finally {
      app.plaid.failures.clear();
    }
    expect(await app.t.db.prisma.plaidItem.count({ where: { id: item.id } })).toBe(1);
    expect(app.plaid.itemOf(plaidItemId).removed).toBe(false);
  });

  it('when Plaid no longer knows the item, unlinking still deletes it', async () => {
    const user = await professional(app.t);
    const { item, plaidItemId } = await link(app, user, 'ins_gone');
    app.plaid.itemOf(plaidItemId).removed = true;
    const res = await api().delete(`/api/v1/banking/items/${item.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(204);
    expect(await app.t.db.prisma.plaidItem.count({ where: { id: item.id } })).toBe(0);
  });
});

describe('accounts and transactions', () => {
  it('when synced, lists accounts with balances in exact cents and transactions signed from the user side', async () => {
    const user = await professional(app.t);
    const checking = fakeAccount({ balances: { current: 1234.56, available: 0.29, iso_currency_code: 'USD' } });
    const { item, plaidItemId } = await link(app, user, 'ins_read', [checking]);
    app.plaid.add(
      plaidItemId,
      fakeTransaction(checking.account_id, { transaction_id: 'tx_a', amount: 0.1, date: '2024-11-01' }),
      fakeTransaction(checking.account_id, {
        transaction_id: 'tx_b',
        amount: -2500,
        date: '2024-11-02',
        personal_finance_category: { primary: 'INCOME', detailed: 'INCOME_WAGES' },
      }),
      fakeTransaction(checking.account_id, { transaction_id: 'tx_c', amount: 0.29, date: '2024-11-03' }),
    );
    await bankSync(app).run(item.id, silent);

    const accounts = await api().get('/api/v1/banking/accounts').set(bearer(user.accessToken));
    expect(accounts.status).toBe(200);
    expect(accounts.body.data).toEqual([
      expect.objectContaining({
        itemId: item.id,
        name: 'Plaid Checking',
        mask: '0000',
        type: 'depository',
        subtype: 'checking',
        currentBalanceCents: 123456,
        availableBalanceCents: 29,
        isoCurrencyCode: 'USD',
      }),
    ]);

    const page1 = await api().get('/api/v1/banking/transactions?limit=2').set(bearer(user.accessToken));
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((t: { date: string; amountCents: number }) => [t.date, t.amountCents])).toEqual([
      ['2024-11-03', -29],
      ['2024-11-02', 250000],
    ]);
    const page2 = await api()
      .get(`/api/v1/banking/transactions?limit=2&cursor=${page1.body.nextCursor}`)
      .set(bearer(user.accessToken));
    expect(page2.body.data).toEqual([
      expect.objectContaining({
        date: '2024-11-01',
        amountCents: -10,
        merchantName: 'Blue Bottle',
        category: 'FOOD_AND_DRINK',
        pending: false,
      }),
    ]);
    expect(page2.body.nextCursor).toBeNull();

    const income = await api().get('/api/v1/banking/transactions?category=income').set(bearer(user.accessToken));
    expect(income.body.data.map((t: { amountCents: number }) => t.amountCents)).toEqual([250000]);
    const range = await api()
      .get('/api/v1/banking/transactions?from=2024-11-02&to=2024-11-02')
      .set(bearer(user.accessToken));
    expect(range.body.data).toHaveLength(1);
    const other = await professional(app.t);
    const theirs = await api()
      .get(`/api/v1/banking/transactions?accountId=${accounts.body.data[0].id}`)
      .set(bearer(other.accessToken));
    expect(theirs.body.data).toEqual([]);
  });

  it('when the query is malformed or the cursor forged, answers 4xx', async () => {
    const user = await professional(app.t);
    const bad = await api()
      .get('/api/v1/banking/transactions?from=2024-11-05&to=2024-11-01')
      .set(bearer(user.accessToken));
    expect(bad.status).toBe(422);
    const forged = await api().get('/api/v1/banking/transactions?cursor=abc.def').set(bearer(user.accessToken));
    expect(forged.status).toBe(400);
    expect(forged.body.type).toMatch(/invalid-cursor$/);
  });

  it('when EXPLAINed, the transaction list reads the (user_id, date, id) index in its order, sorting nothing', async () => {
    const { listTransactionsSql } = await import('../../../src/modules/banking/banking.repo.js');
    const user = await professional(app.t);
    const sql = listTransactionsSql(user.id, { take: 51, after: { date: '2024-11-01', id: user.id } });
    // Planned as a client holding many rows would see it: without the seq scan a small table would pick.
    const client = await app.t.db.pool.connect();
    let rows: { 'QUERY PLAN': string }[];
    try {
      await client.query('SET enable_seqscan = off');
      rows = (await client.query(`EXPLAIN ${sql.text}`, sql.values)).rows;
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('Index Scan Backward using bank_transactions_user_id_date_id_idx');
    // The index gives the page its order: a Sort node would sort every row of the user to keep fifty.
    expect(plan).not.toMatch(/Sort/);
  });
});
