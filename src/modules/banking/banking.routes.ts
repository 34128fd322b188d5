import express, { type RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import { withContract } from '../../http/contract.js';
import type { Csrf } from '../../http/csrf.js';
import { HttpError } from '../../http/errors.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  AccountListQuery,
  BankAccountPage,
  BankItem,
  BankItemPage,
  BankTransactionPage,
  ExchangeBody,
  ItemListQuery,
  ItemParams,
  LinkToken,
  LinkTokenBody,
  PlaidWebhookAck,
  PlaidWebhookBody,
  SyncAccepted,
  TransactionListQuery,
} from './banking.schemas.js';
import type { BankingService } from './banking.service.js';
import type { PlaidWebhooks } from './banking.webhooks.js';

export interface BankingRoutesDeps {
  csrf: Csrf;
  idempotent: RequestHandler;
  /** The plan gate (`bank-links`): every banking route needs it. */
  entitled: RequestHandler;
}

const tag = 'Banking';

const LINK_TOKEN = operation({
  operationId: 'createLinkToken',
  tag,
  summary: 'A Plaid Link token to open Link on the device; with `itemId`, Link in update mode to repair a login',
  replies: { 201: json('A Link token (valid for 4 hours)', LinkToken) },
  problems: ['not-found', 'bank-item-revoked', 'banking-upstream-failed'],
});
const LINK = operation({
  operationId: 'linkBankItem',
  tag,
  summary: "Link a bank: exchange Link's public token; the first sync starts in the background",
  description:
    'The access token is stored encrypted and never returned. One link per institution: linking it again answers ' +
    '409 naming the existing item.',
  replies: { 201: json('Linked', BankItem, ['Location']) },
  problems: ['invalid-public-token', 'bank-link-exists', 'banking-upstream-failed'],
});
const ITEMS = operation({
  operationId: 'listBankItems',
  tag,
  summary: 'Your bank links, newest first, with their health and last sync',
  replies: { 200: json('A page of bank links', BankItemPage) },
  problems: ['invalid-cursor'],
});
const UNLINK = operation({
  operationId: 'unlinkBankItem',
  tag,
  summary: 'Unlink a bank: revoked at Plaid first, then its accounts and transactions are deleted',
  description: 'Plaid unreachable: 502 and nothing is deleted; retry.',
  replies: { 204: { description: 'Unlinked' } },
  problems: ['not-found', 'banking-upstream-failed'],
});
const SYNC = operation({
  operationId: 'syncBankItem',
  tag,
  summary: "Sync a bank link's accounts and transactions now (in the background)",
  description:
    'Requests within one minute share one job; a sync of the item already running makes one more pass instead of ' +
    'running twice.',
  replies: { 202: json('The sync job and its state', SyncAccepted) },
  problems: ['not-found', 'bank-item-revoked', 'jobs-unavailable'],
});
const ACCOUNTS = operation({
  operationId: 'listBankAccounts',
  tag,
  summary: 'Your linked bank accounts with their balances in integer cents (API keys may call it)',
  replies: { 200: json('A page of accounts', BankAccountPage) },
  problems: ['invalid-cursor'],
});
const TRANSACTIONS = operation({
  operationId: 'listBankTransactions',
  tag,
  summary: 'Your bank transactions, newest date first (API keys may call it)',
  description:
    '`amountCents` is negative for money leaving the account and positive for money coming in, in hundredths of ' +
    '`isoCurrencyCode`.',
  replies: { 200: json('A page of transactions', BankTransactionPage) },
  problems: ['invalid-cursor'],
});

export function bankingRoutes(svc: BankingService, deps: BankingRoutesDeps): ApiRouter {
  const r = createApiRouter();
  // Without Plaid every route is unavailable; a malformed request is still the client's 4xx first.
  const configured = withContract<RequestHandler>(
    (_req, _res, next) => {
      svc.assertConfigured();
      next();
    },
    { problems: ['banking-not-configured'] },
  );
  r.use(requireAuth(), deps.csrf.protect);

  const linkToken = validate({ body: LinkTokenBody });
  r.post('/link-token', LINK_TOKEN, linkToken, configured, deps.entitled, async (req, res) => {
    res.status(201).json(await svc.linkToken(principalOf(req).userId, linkToken.input(req).body));
  });

  const link = validate({ body: ExchangeBody });
  r.post('/items', LINK, link, configured, deps.entitled, deps.idempotent, async (req, res) => {
    const item = await svc.link(principalOf(req).userId, link.input(req).body, requestContext(req));
    res.status(201).location(`${req.baseUrl}/items/${item.id}`).json(item);
  });

  const items = validate({ query: ItemListQuery });
  r.get('/items', ITEMS, items, configured, deps.entitled, async (req, res) => {
    res.json(await svc.items(principalOf(req).userId, items.input(req).query));
  });

  const byId = validate({ params: ItemParams });
  r.delete('/items/:id', UNLINK, byId, configured, deps.entitled, async (req, res) => {
    await svc.unlink(principalOf(req).userId, byId.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  r.post('/items/:id/sync', SYNC, byId, configured, deps.entitled, async (req, res) => {
    res.status(202).json(await svc.requestSync(principalOf(req).userId, byId.input(req).params.id));
  });

  const accounts = validate({ query: AccountListQuery });
  r.get('/accounts', ACCOUNTS, accounts, configured, deps.entitled, async (req, res) => {
    res.json(await svc.accounts(principalOf(req).userId, accounts.input(req).query));
  });

  const transactions = validate({ query: TransactionListQuery });
  r.get('/transactions', TRANSACTIONS, transactions, configured, deps.entitled, async (req, res) => {
    res.json(await svc.transactions(principalOf(req).userId, transactions.input(req).query));
  });

  return r;
}

/** Plaid's webhooks are small; the bound is far above any of them. */
export const PLAID_WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024;

const WEBHOOK = operation({
  operationId: 'receivePlaidWebhook',
  tag: 'Webhooks',
  summary: 'Plaid webhook endpoint (called by Plaid, verified by its Plaid-Verification JWT)',
  description:
    'The raw body is verified before anything is read: ES256 only, the key of the JWT `kid` fetched from Plaid ' +
    '(an expired key is refused), issued within 300 s, `request_body_sha256` equal to the SHA-256 of the body. ' +
    '`TRANSACTIONS`/`SYNC_UPDATES_AVAILABLE` enqueues a sync; `ITEM` errors, `PENDING_EXPIRATION` and ' +
    "`USER_PERMISSION_REVOKED` change the item's status; other types are acknowledged (`ignored`) and counted.",
  replies: { 200: json('Applied, or of a type or item this service does not act on', PlaidWebhookAck) },
  problems: ['invalid-signature', 'banking-not-configured', 'banking-upstream-failed', 'jobs-unavailable'],
  checks: { accepts: [{ name: 'plaidVerification' }], anonymous: false },
});

/**
 * Mounted before the JSON parser and outside the per-user API limit (the signature covers the exact bytes Plaid
 * sent), behind a generous per-IP limit of its own.
 */
export function plaidWebhookRoutes(webhooks: PlaidWebhooks, limit: RequestHandler): ApiRouter {
  const r = createApiRouter();
  const raw = express.raw({ type: () => true, limit: PLAID_WEBHOOK_BODY_LIMIT_BYTES });
  const rawBody = withContract<RequestHandler>(
    (req, res, next) =>
      raw(req, res, (err?: unknown) => {
        if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
          return next(new HttpError(413, 'payload-too-large', 'The webhook body is larger than the limit of 64 kB'));
        }
        next(err);
      }),
    { request: { body: PlaidWebhookBody }, problems: ['payload-too-large', 'bad-request'] },
  );
  r.post('/', WEBHOOK, limit, rawBody, async (req, res) => {
    const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.json({ received: true, outcome: await webhooks.receive(payload, req.get('plaid-verification')) });
  });
  return r;
}
