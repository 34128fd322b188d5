import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_PER_MINUTE } from '../../../src/http/rate-limits.js';
import type { SignOptions } from '../../support/plaid-server.js';
import { type BankTestApp, link, nowSeconds, professional, startBankApp } from './banking.helpers.js';

const WEBHOOK = '/api/v1/webhooks/plaid';

let app: BankTestApp;
beforeAll(async () => {
  app = await startBankApp();
});
afterAll(() => app.close());

function deliver(body: unknown, options: SignOptions = {}, tamper?: (payload: string) => string) {
  const signed = app.plaid.signWebhook(body, { iat: nowSeconds(), ...options });
  return request(app.t.app)
    .post(WEBHOOK)
    .set('Content-Type', 'application/json')
    .set('Plaid-Verification', signed.verification)
    .send(tamper ? tamper(signed.payload) : signed.payload);
}

async function linkedItem(institution: string) {
  const user = await professional(app.t);
  const { item, plaidItemId } = await link(app, user, institution);
  return { user, itemId: item.id, plaidItemId };
}

const itemRow = (id: string) => app.t.db.prisma.plaidItem.findUniqueOrThrow({ where: { id } });

async function metrics(): Promise<string> {
  const res = await request(app.t.app).get('/metrics').set('Authorization', `Bearer ${app.t.metricsToken}`);
  return res.text;
}

const failures = (text: string, reason: string) =>
  Number(
    new RegExp(`^mingus_webhook_failures_total\\{provider="plaid",reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ??
      0,
  );

describe('Plaid webhooks, verified', () => {
  it('when ITEM_LOGIN_REQUIRED arrives signed, marks the item login_required with the error code', async () => {
    const { itemId, plaidItemId } = await linkedItem('ins_wh_login');
    const res = await deliver({
      webhook_type: 'ITEM',
      webhook_code: 'ERROR',
      item_id: plaidItemId,
      error: { error_code: 'ITEM_LOGIN_REQUIRED', error_type: 'ITEM_ERROR' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: 'applied' });
    expect(await itemRow(itemId)).toMatchObject({ status: 'login_required', errorCode: 'ITEM_LOGIN_REQUIRED' });

    await deliver({ webhook_type: 'ITEM', webhook_code: 'LOGIN_REPAIRED', item_id: plaidItemId });
    expect(await itemRow(itemId)).toMatchObject({ status: 'healthy', errorCode: null });
  });

  it('when PENDING_EXPIRATION and USER_PERMISSION_REVOKED arrive, the item status follows', async () => {
    const { itemId, plaidItemId } = await linkedItem('ins_wh_status');
    await deliver({ webhook_type: 'ITEM', webhook_code: 'PENDING_EXPIRATION', item_id: plaidItemId });
    expect((await itemRow(itemId)).status).toBe('pending_expiration');
    await deliver({ webhook_type: 'ITEM', webhook_code: 'USER_PERMISSION_REVOKED', item_id: plaidItemId });
    expect((await itemRow(itemId)).status).toBe('revoked');
  });

  it('when SYNC_UPDATES_AVAILABLE arrives, enqueues a sync job for the item', async () => {
    const { itemId, plaidItemId } = await linkedItem('ins_wh_sync');
    const res = await deliver({
      webhook_type: 'TRANSACTIONS',
      webhook_code: 'SYNC_UPDATES_AVAILABLE',
      item_id: plaidItemId,
      initial_update_complete: true,
      historical_update_complete: true,
    });
    expect(res.body.outcome).toBe('applied');
    const redis = app.t.redis;
    if (!redis) throw new Error('needs Redis');
    const keys = await redis.keys(`${app.t.config.redis.keyPrefix}jobs:banking:banking.sync.${itemId}.webhook-*`);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('when an unknown type arrives, acknowledges it as ignored and counts it', async () => {
    const { plaidItemId } = await linkedItem('ins_wh_other');
    const res = await deliver({ webhook_type: 'HOLDINGS', webhook_code: 'DEFAULT_UPDATE', item_id: plaidItemId });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('ignored');
    expect(await metrics()).toMatch(
      /mingus_webhook_events_total\{provider="plaid",type="other",outcome="ignored"\} [1-9]/,
    );
  });
});

describe('Plaid webhooks, refused with 400 and nothing done', () => {
  const refusals: Array<[string, string, SignOptions, ((p: string) => string)?]> = [
    ['signed with HS256 (the public key as an HMAC secret)', 'wrong_algorithm', { alg: 'HS256' }],
    ['with alg none', 'wrong_algorithm', { alg: 'none' }],
    ['signed by a key whose kid Plaid does not know', 'unknown_key', { kid: 'no-such-key-id' }],
    ['signed by another key under a known kid', 'bad_signature', { foreignKey: true }],
    ['issued more than five minutes ago', 'stale', { iat: nowSeconds() - 301 }],
    ['issued far in the future', 'stale', { iat: nowSeconds() + 3600 }],
    ['whose body was changed after signing', 'body_mismatch', {}, (p) => p.replace('ERROR', 'ERRO')],
    ['claiming another body hash', 'body_mismatch', { bodySha256: '0'.repeat(64) }],
  ];

  for (const [situation, reason, options, tamper] of refusals) {
    it(`when a webhook is ${situation}, answers 400 invalid-signature, changes nothing and counts ${reason}`, async () => {
      const { itemId, plaidItemId } = await linkedItem(`ins_ref_${reason}_${Math.random()}`);
      const before = failures(await metrics(), reason);
      const res = await deliver(
        {
          webhook_type: 'ITEM',
          webhook_code: 'ERROR',
          item_id: plaidItemId,
          error: { error_code: 'ITEM_LOGIN_REQUIRED' },
        },
        options,
        tamper,
      );
      expect(res.status).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/invalid-signature$/);
      expect(await itemRow(itemId)).toMatchObject({ status: 'healthy', errorCode: null });
      expect(failures(await metrics(), reason)).toBe(before + 1);
    });
  }

  it('when the Plaid-Verification header is missing, answers 400 and changes nothing', async () => {
    const { itemId, plaidItemId } = await linkedItem('ins_ref_missing');
    const res = await request(app.t.app)
      .post(WEBHOOK)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ webhook_type: 'ITEM', webhook_code: 'USER_PERMISSION_REVOKED', item_id: plaidItemId }));
    expect(res.status).toBe(400);
    expect((await itemRow(itemId)).status).toBe('healthy');
  });

  it('when the signing key has expired at Plaid, refuses it (even once cached)', async () => {
    const { itemId, plaidItemId } = await linkedItem('ins_ref_expired');
    const body = { webhook_type: 'ITEM', webhook_code: 'PENDING_EXPIRATION', item_id: plaidItemId };
    // A fresh app: its key cache starts empty, so the expiry is learned at the first lookup.
    const other = await startBankApp();
    try {
      other.plaid.expireKey(other.plaid.kid);
      const signed = other.plaid.signWebhook(body, { iat: nowSeconds() });
      const res = await request(other.t.app)
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .set('Plaid-Verification', signed.verification)
        .send(signed.payload);
      expect(res.status).toBe(400);
      expect(
        failures(
          await (async () => {
            const m = await request(other.t.app).get('/metrics').set('Authorization', `Bearer ${other.t.metricsToken}`);
            return m.text;
          })(),
          'expired_key',
        ),
      ).toBe(1);
    } finally {
      await other.close();
    }
    expect((await itemRow(itemId)).status).toBe('healthy');
  });

  it('when the verification key cannot be fetched (Plaid down), answers 502 so that Plaid delivers again', async () => {
    const other = await startBankApp();
    try {
      other.plaid.failures.set('/webhook_verification_key/get', {
        status: 500,
        error_type: 'API_ERROR',
        error_code: 'INTERNAL_SERVER_ERROR',
      });
      const signed = other.plaid.signWebhook({ webhook_type: 'ITEM', webhook_code: 'ERROR' }, { iat: nowSeconds() });
      const res = await request(other.t.app)
        .post(WEBHOOK)
        .set('Content-Type', 'application/json')
        .set('Plaid-Verification', signed.verification)
        .send(signed.payload);
      expect(res.status).toBe(502);
    } finally {
      await other.close();
    }
  });
});

describe('Plaid webhook rate limit', () => {
  it(`when one address sends more than ${WEBHOOK_PER_MINUTE} deliveries a minute, answers 429`, async () => {
    const other = await startBankApp();
    try {
      const statuses: number[] = [];
      for (let i = 0; i <= WEBHOOK_PER_MINUTE; i += 1) {
        const res = await request(other.t.app).post(WEBHOOK).set('Content-Type', 'application/json').send('{}');
        statuses.push(res.status);
      }
      expect(statuses.slice(0, WEBHOOK_PER_MINUTE).every((s) => s === 400)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await other.close();
    }
  });
});
