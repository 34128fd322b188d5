import {
  type AccountsGetRequest,
  type AccountsGetResponse,
  Configuration,
  type InstitutionsGetByIdRequest,
  type InstitutionsGetByIdResponse,
  type ItemGetRequest,
  type ItemGetResponse,
  type ItemPublicTokenExchangeRequest,
  type ItemPublicTokenExchangeResponse,
  type ItemRemoveRequest,
  type ItemRemoveResponse,
  type LinkTokenCreateRequest,
  type LinkTokenCreateResponse,
  PlaidApi,
  PlaidEnvironments,
  type TransactionsSyncRequest,
  type TransactionsSyncResponse,
  type WebhookVerificationKeyGetRequest,
  type WebhookVerificationKeyGetResponse,
} from 'plaid';

export interface PlaidOptions {
  clientId: string;
  secret: string;
  environment: 'sandbox' | 'production';
  /** Another Plaid-compatible server (the tests' local one); absent: Plaid's host for `environment`. */
  apiUrl?: string | undefined;
  /** Per request (default 10 s): a hung Plaid turns into a 502 or a job retry, never a request held for minutes. */
  timeoutMs?: number;
}

/**
 * A failed Plaid call, stripped of everything but what diagnoses it. The SDK's own error is an axios error whose
 * `config` carries the request headers — PLAID-CLIENT-ID and PLAID-SECRET — and its body, the access token: it
 * never leaves this file, so no log line, job failure or error report can hold them.
 */
export class PlaidRequestError extends Error {
  constructor(
    readonly operation: string,
    /** Plaid's HTTP status; undefined when no answer came (network, timeout). */
    readonly status: number | undefined,
    /** Plaid's `error_type` (`ITEM_ERROR`, `INVALID_INPUT`, …), or `NETWORK_ERROR` when no answer came. */
    readonly errorType: string,
    /** Plaid's `error_code` (`ITEM_LOGIN_REQUIRED`, `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`, …). */
    readonly errorCode: string,
    readonly requestId: string | undefined,
  ) {
    super(`Plaid ${operation} failed: ${status ?? 'no answer'} ${errorType} ${errorCode}`);
    this.name = 'PlaidRequestError';
  }

  /** Plaid could not be reached or failed on its side: worth retrying later, nothing the user did. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

function toPlaidError(operation: string, err: unknown): PlaidRequestError {
  const { response, code } = (err ?? {}) as {
    response?: { status?: number; data?: Record<string, unknown> };
    code?: string;
  };
  const data = response?.data ?? {};
  const text = (v: unknown, fallback: string) => (typeof v === 'string' && v.length <= 100 ? v : fallback);
  return new PlaidRequestError(
    operation,
    response?.status,
    text(data.error_type, response ? 'API_ERROR' : 'NETWORK_ERROR'),
    text(data.error_code, response ? 'UNKNOWN' : text(code, 'NO_ANSWER')),
    typeof data.request_id === 'string' ? data.request_id.slice(0, 64) : undefined,
  );
}

export type PlaidClient = ReturnType<typeof createPlaid>;

/**
 * The official SDK, reduced to the calls the service makes, each answering Plaid's body or throwing a
 * `PlaidRequestError`. The SDK holds no pool of its own: nothing to close.
 */
export function createPlaid(options: PlaidOptions) {
  const api = new PlaidApi(
    new Configuration({
      basePath: options.apiUrl ?? PlaidEnvironments[options.environment],
      baseOptions: {
        timeout: options.timeoutMs ?? 10_000,
        // Plaid never redirects; following one would send the credentials elsewhere.
        maxRedirects: 0,
        headers: { 'PLAID-CLIENT-ID': options.clientId, 'PLAID-SECRET': options.secret },
      },
    }),
  );
  async function call<T>(operation: string, run: () => Promise<{ data: T }>): Promise<T> {
    try {
      return (await run()).data;
    } catch (err) {
      throw toPlaidError(operation, err);
    }
  }
  return {
    linkTokenCreate: (req: LinkTokenCreateRequest): Promise<LinkTokenCreateResponse> =>
      call('/link/token/create', () => api.linkTokenCreate(req)),
    itemPublicTokenExchange: (req: ItemPublicTokenExchangeRequest): Promise<ItemPublicTokenExchangeResponse> =>
      call('/item/public_token/exchange', () => api.itemPublicTokenExchange(req)),
    itemGet: (req: ItemGetRequest): Promise<ItemGetResponse> => call('/item/get', () => api.itemGet(req)),
    institutionsGetById: (req: InstitutionsGetByIdRequest): Promise<InstitutionsGetByIdResponse> =>
      call('/institutions/get_by_id', () => api.institutionsGetById(req)),
    accountsGet: (req: AccountsGetRequest): Promise<AccountsGetResponse> =>
      call('/accounts/get', () => api.accountsGet(req)),
    transactionsSync: (req: TransactionsSyncRequest): Promise<TransactionsSyncResponse> =>
      call('/transactions/sync', () => api.transactionsSync(req)),
    itemRemove: (req: ItemRemoveRequest): Promise<ItemRemoveResponse> =>
      call('/item/remove', () => api.itemRemove(req)),
    webhookVerificationKeyGet: (req: WebhookVerificationKeyGetRequest): Promise<WebhookVerificationKeyGetResponse> =>
      call('/webhook_verification_key/get', () => api.webhookVerificationKeyGet(req)),
  };
}
