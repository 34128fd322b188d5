import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

/**
 * A small Plaid-compatible HTTP server for tests: the official `plaid` SDK is pointed at it (PLAID_API_URL) and it
 * implements the endpoints the service calls, in Plaid's wire format (JSON in and out, amounts as JSON numbers,
 * `{error_type, error_code, error_message}` failures), recording every request. It signs webhooks as Plaid does: an
 * ES256 JWT whose key it serves by `kid` from `/webhook_verification_key/get`.
 */

export const TEST_PLAID_CLIENT_ID = '5f1a2b3c4d5e6f7a8b9c0d1e';
export const TEST_PLAID_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f';
export const TEST_PLAID_WEBHOOK_URL = 'https://api.mingus.test/api/v1/webhooks/plaid';

/** The environment that points the application at `server`. */
export function plaidEnv(server: Pick<PlaidServer, 'url'>): Record<string, string> {
  return {
    PLAID_CLIENT_ID: TEST_PLAID_CLIENT_ID,
    PLAID_SECRET: TEST_PLAID_SECRET,
    PLAID_ENV: 'sandbox',
    PLAID_API_URL: server.url,
    PLAID_WEBHOOK_URL: TEST_PLAID_WEBHOOK_URL,
  };
}

export interface FakeTransaction {
  transaction_id: string;
  account_id: string;
  /** Plaid's sign: positive for money leaving the account. */
  amount: number;
  iso_currency_code: string | null;
  date: string;
  name: string;
  merchant_name: string | null;
  personal_finance_category: { primary: string; detailed: string } | null;
  pending: boolean;
}

export interface FakeAccount {
  account_id: string;
  name: string;
  official_name: string | null;
  mask: string | null;
  type: string;
  subtype: string | null;
  balances: { current: number | null; available: number | null; iso_currency_code: string | null };
}

export interface FakeItem {
  itemId: string;
  accessToken: string;
  institutionId: string;
  accounts: FakeAccount[];
  /** Every change in order: a cursor is how many of them a client has seen. */
  log: Array<{ kind: 'added' | 'modified'; tx: FakeTransaction } | { kind: 'removed'; id: string }>;
  removed: boolean;
}

export interface RecordedPlaidRequest {
  path: string;
  body: Record<string, unknown>;
}

export interface PlaidServer {
  url: string;
  requests: RecordedPlaidRequest[];
  items: Map<string, FakeItem>;
  /** A public token that exchanges for a new item of `institutionId` with `accounts`. */
  publicToken(institutionId: string, accounts?: FakeAccount[]): string;
  itemOf(itemId: string): FakeItem;
  add(itemId: string, ...txs: FakeTransaction[]): void;
  modify(itemId: string, tx: FakeTransaction): void;
  remove(itemId: string, transactionId: string): void;
  /** The next `/transactions/sync` call with a cursor of a page that had more answers the mutation error. */
  mutateDuringNextPagination(): void;
  /** `/transactions/sync` calls wait until the returned function is called. */
  holdSyncs(): () => void;
  /** Requests to `path` answer this until cleared. */
  failures: Map<string, { status: number; error_type: string; error_code: string }>;
  requestsTo(path: string): RecordedPlaidRequest[];
  /** Signs `body` as Plaid signs a webhook; the options sign it wrongly. */
  signWebhook(body: unknown, options?: SignOptions): { payload: string; verification: string };
  /** The current key's id; `expireKey` marks it expired as Plaid does after a rotation. */
  kid: string;
  expireKey(kid: string): void;
  close(): Promise<void>;
}

export interface SignOptions {
  /** Unix seconds; default now. */
  iat?: number;
  kid?: string;
  alg?: 'ES256' | 'HS256' | 'none';
  /** Sign with another key than the one served for the kid. */
  foreignKey?: boolean;
  /** The body hash claimed: default the payload's. */
  bodySha256?: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

class PlaidApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
  ) {
    super(code);
  }
}

export function fakeAccount(init: Partial<FakeAccount> = {}): FakeAccount {
  return {
    account_id: init.account_id ?? `acc_${hex(8)}`,
    name: init.name ?? 'Plaid Checking',
    official_name: init.official_name ?? 'Plaid Gold Standard 0% Interest Checking',
    mask: init.mask ?? '0000',
    type: init.type ?? 'depository',
    subtype: init.subtype ?? 'checking',
    balances: init.balances ?? { current: 110.29, available: 100.1, iso_currency_code: 'USD' },
  };
}

export function fakeTransaction(accountId: string, init: Partial<FakeTransaction> = {}): FakeTransaction {
  return {
    transaction_id: init.transaction_id ?? `tx_${hex(8)}`,
    account_id: accountId,
    amount: init.amount ?? 12.5,
    iso_currency_code: init.iso_currency_code === undefined ? 'USD' : init.iso_currency_code,
    date: init.date ?? '2024-11-20',
    name: init.name ?? 'Coffee',
    merchant_name: init.merchant_name === undefined ? 'Blue Bottle' : init.merchant_name,
    personal_finance_category:
      init.personal_finance_category === undefined
        ? { primary: 'FOOD_AND_DRINK', detailed: 'FOOD_AND_DRINK_COFFEE' }
        : init.personal_finance_category,
    pending: init.pending ?? false,
  };
}

export async function startPlaidServer(): Promise<PlaidServer> {
  const items = new Map<string, FakeItem>();
  const byToken = new Map<string, FakeItem>();
  const publicTokens = new Map<string, { institutionId: string; accounts: FakeAccount[] }>();
  const requests: RecordedPlaidRequest[] = [];
  /** Cursors handed out with has_more: a mutation error applies to them. */
  const midCursors = new Set<string>();
  let mutateNext = false;
  let hold: Promise<void> | undefined;
  const keys = new Map<string, { privateKey: KeyObject; jwk: Record<string, unknown>; expiredAt: number | null }>();

  function newKey(): string {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = hex(16);
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    keys.set(kid, { privateKey, jwk, expiredAt: null });
    return kid;
  }
  const currentKid = newKey();

  function itemOfToken(token: unknown): FakeItem {
    const item = typeof token === 'string' ? byToken.get(token) : undefined;
    if (!item || item.removed) throw new PlaidApiError(400, 'INVALID_INPUT', 'INVALID_ACCESS_TOKEN');
    return item;
  }

  function sync(body: Record<string, unknown>) {
    const item = itemOfToken(body.access_token);
    const cursor = typeof body.cursor === 'string' && body.cursor !== '' ? body.cursor : 'c0';
    if (mutateNext && midCursors.has(cursor)) {
      mutateNext = false;
      throw new PlaidApiError(400, 'TRANSACTIONS_ERROR', 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION');
    }
    const start = Number(cursor.slice(1));
    if (!/^c\d+$/.test(cursor) || start > item.log.length)
      throw new PlaidApiError(400, 'INVALID_INPUT', 'INVALID_CURSOR');
    const count = typeof body.count === 'number' ? body.count : 100;
    const entries = item.log.slice(start, start + count);
    const next = `c${start + entries.length}`;
    const hasMore = start + entries.length < item.log.length;
    if (hasMore) midCursors.add(next);
    return {
      added: entries.flatMap((e) => (e.kind === 'added' ? [e.tx] : [])),
      modified: entries.flatMap((e) => (e.kind === 'modified' ? [e.tx] : [])),
      removed: entries.flatMap((e) => (e.kind === 'removed' ? [{ transaction_id: e.id, account_id: null }] : [])),
      accounts: item.accounts,
      next_cursor: next,
      has_more: hasMore,
      transactions_update_status: 'HISTORICAL_UPDATE_COMPLETE',
      request_id: hex(6),
    };
  }

  async function handle(path: string, body: Record<string, unknown>): Promise<unknown> {
    switch (path) {
      case '/link/token/create':
        return { link_token: `link-sandbox-${hex(12)}`, expiration: '2024-12-01T04:00:00Z', request_id: hex(6) };
      case '/item/public_token/exchange': {
        const grant = typeof body.public_token === 'string' ? publicTokens.get(body.public_token) : undefined;
        if (!grant) throw new PlaidApiError(400, 'INVALID_INPUT', 'INVALID_PUBLIC_TOKEN');
        publicTokens.delete(body.public_token as string);
        const item: FakeItem = {
          itemId: `item_${hex(8)}`,
          accessToken: `access-sandbox-${hex(16)}`,
          institutionId: grant.institutionId,
          accounts: grant.accounts,
          log: [],
          removed: false,
        };
        items.set(item.itemId, item);
        byToken.set(item.accessToken, item);
        return { access_token: item.accessToken, item_id: item.itemId, request_id: hex(6) };
      }
      case '/item/get': {
        const item = itemOfToken(body.access_token);
        return {
          item: { item_id: item.itemId, institution_id: item.institutionId, webhook: TEST_PLAID_WEBHOOK_URL },
          request_id: hex(6),
        };
      }
      case '/institutions/get_by_id':
        return {
          institution: { institution_id: body.institution_id, name: `Bank ${String(body.institution_id)}` },
          request_id: hex(6),
        };
      case '/accounts/get': {
        const item = itemOfToken(body.access_token);
        return { accounts: item.accounts, item: { item_id: item.itemId }, request_id: hex(6) };
      }
      case '/transactions/sync': {
        if (hold) await hold;
        return sync(body);
      }
      case '/item/remove': {
        const item = itemOfToken(body.access_token);
        item.removed = true;
        return { request_id: hex(6) };
      }
      case '/webhook_verification_key/get': {
        const key = typeof body.key_id === 'string' ? keys.get(body.key_id) : undefined;
        if (!key) throw new PlaidApiError(400, 'INVALID_INPUT', 'INVALID_WEBHOOK_VERIFICATION_KEY_ID');
        return {
          key: {
            ...key.jwk,
            alg: 'ES256',
            kid: body.key_id,
            use: 'sig',
            created_at: 1_700_000_000,
            expired_at: key.expiredAt,
          },
          request_id: hex(6),
        };
      }
      default:
        throw new PlaidApiError(404, 'INVALID_REQUEST', 'UNKNOWN_ENDPOINT');
    }
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      async (raw) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
        requests.push({ path, body });
        if (
          req.headers['plaid-client-id'] !== TEST_PLAID_CLIENT_ID ||
          req.headers['plaid-secret'] !== TEST_PLAID_SECRET
        ) {
          return send(res, 400, { error_type: 'INVALID_INPUT', error_code: 'INVALID_API_KEYS', error_message: 'keys' });
        }
        const failure = fake.failures.get(path);
        if (failure) return send(res, failure.status, { ...failure, error_message: 'injected', request_id: hex(6) });
        try {
          send(res, 200, await handle(path, body));
        } catch (err) {
          if (!(err instanceof PlaidApiError)) throw err;
          send(res, err.status, {
            error_type: err.type,
            error_code: err.code,
            error_message: err.code,
            display_message: null,
            request_id: hex(6),
          });
        }
      },
      (err: unknown) =>
        send(res, 500, { error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR', error_message: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: PlaidServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    items,
    failures: new Map(),
    kid: currentKid,
    publicToken(institutionId, accounts = [fakeAccount()]) {
      const token = `public-sandbox-${hex(12)}`;
      publicTokens.set(token, { institutionId, accounts });
      return token;
    },
    itemOf(itemId) {
      const item = items.get(itemId);
      if (!item) throw new Error(`no fake item ${itemId}`);
      return item;
    },
    add(itemId, ...txs) {
      fake.itemOf(itemId).log.push(...txs.map((tx) => ({ kind: 'added' as const, tx })));
    },
    modify(itemId, tx) {
      fake.itemOf(itemId).log.push({ kind: 'modified', tx });
    },
    remove(itemId, transactionId) {
      fake.itemOf(itemId).log.push({ kind: 'removed', id: transactionId });
    },
    mutateDuringNextPagination() {
      mutateNext = true;
    },
    holdSyncs() {
      let release: () => void = () => undefined;
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = undefined;
          resolve();
        };
      });
      return release;
    },
    requestsTo: (path) => requests.filter((r) => r.path === path),
    signWebhook(body, options = {}) {
      const payload = JSON.stringify(body);
      const kid = options.kid ?? currentKid;
      const claims = {
        iat: options.iat ?? Math.floor(Date.now() / 1000),
        request_body_sha256: options.bodySha256 ?? createHash('sha256').update(payload).digest('hex'),
      };
      const alg = options.alg ?? 'ES256';
      if (alg === 'none') {
        const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        return { payload, verification: `${part({ alg: 'none', kid, typ: 'JWT' })}.${part(claims)}.` };
      }
      if (alg === 'HS256') {
        // The classic confusion: the public key's text used as an HMAC secret.
        const secret = JSON.stringify(keys.get(currentKid)?.jwk);
        return {
          payload,
          verification: jwt.sign(claims, secret, { algorithm: 'HS256', keyid: kid }),
        };
      }
      const signer = options.foreignKey
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
        : (keys.get(kid) ?? keys.get(currentKid))?.privateKey;
      if (!signer) throw new Error('no key');
      return {
        payload,
        verification: jwt.sign(claims, signer, { algorithm: 'ES256', keyid: kid }),
      };
    },
    expireKey(kid) {
      const key = keys.get(kid);
      if (key) key.expiredAt = 1_700_000_100;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        fake.holdSyncs()();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
