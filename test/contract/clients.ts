import type { AddressInfo } from 'node:net';
import createClient, { type Middleware } from 'openapi-fetch';
import type { TestApp } from '../support/app.js';
import type { paths } from './api.js';
import type { Contract } from './contract.js';

/** The base URL of a test app's listening server. */
export function baseUrlOf(t: TestApp): string {
  return `http://127.0.0.1:${(t.app.address() as AddressInfo).port}`;
}

/** The document the app serves, as a client would download it. */
export async function servedDocument(t: TestApp): Promise<unknown> {
  const res = await fetch(`${baseUrlOf(t)}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return res.json();
}

/** The mobile app: tokens from the body, sent as `Authorization: Bearer` (an API key the same way). */
export function mobileClient(baseUrl: string, contract: Contract) {
  const credentials: { bearer: string | undefined } = { bearer: undefined };
  const client = createClient<paths>({ baseUrl });
  const authorize: Middleware = {
    onRequest({ request }) {
      if (credentials.bearer !== undefined) request.headers.set('Authorization', `Bearer ${credentials.bearer}`);
    },
  };
  // Registered after `authorize`: the contract sees the request as it is sent.
  client.use(authorize, contract.middleware);
  return { api: client, credentials };
}

/** `X-Client: web` on the auth routes makes them answer with cookies instead of tokens. */
export const WEB = { 'X-Client': 'web' } as const;

/**
 * The web app in a browser: the session lives in cookies the API sets, and every state-changing request carries
 * the session's CSRF token (handed over in the body of the sign-in and refresh answers) as `X-CSRF-Token`.
 */
export function webClient(baseUrl: string, contract: Contract) {
  const jar = createCookieJar();
  const session: { csrfToken: string | undefined } = { csrfToken: undefined };
  const client = createClient<paths>({ baseUrl });
  const csrf: Middleware = {
    onRequest({ request }) {
      if (session.csrfToken !== undefined && !['GET', 'HEAD'].includes(request.method)) {
        request.headers.set('X-CSRF-Token', session.csrfToken);
      }
    },
  };
  // The jar is middleware rather than the client's `fetch`, so that the contract (registered after it) sees the
  // Cookie header the browser would send, and the jar stores the answer's cookies after the contract has read them.
  client.use(jar.middleware, csrf, contract.middleware);
  return { api: client, session, jar };
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * What a browser's cookie store does for one origin, as far as these journeys need: Set-Cookie stores or (expired)
 * deletes by name and path; a request carries the cookies whose path matches. `Secure` is honoured as a browser does
 * on a loopback address, which counts as a secure context. Expiry is judged by the answer's own `Date`, never by
 * this machine's clock.
 */
export function createCookieJar() {
  const cookies = new Map<string, StoredCookie>();
  const matching = (pathname: string) =>
    [...cookies.values()].filter(
      (c) =>
        pathname === c.path ||
        (pathname.startsWith(c.path) && (c.path.endsWith('/') || pathname[c.path.length] === '/')),
    );

  const middleware: Middleware = {
    onRequest({ request }) {
      const sent = matching(new URL(request.url).pathname);
      if (sent.length > 0) request.headers.set('Cookie', sent.map((c) => `${c.name}=${c.value}`).join('; '));
    },
    onResponse({ request, response }) {
      const now = Date.parse(response.headers.get('date') ?? '');
      for (const line of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = line.split(';');
        const at = pair.indexOf('=');
        const name = pair.slice(0, at).trim();
        const attribute = (key: string) =>
          attributes
            .map((a) => a.trim())
            .find((a) => a.toLowerCase().startsWith(`${key}=`))
            ?.slice(key.length + 1);
        const requestPath = new URL(request.url).pathname;
        const path = attribute('path') ?? requestPath.slice(0, Math.max(requestPath.lastIndexOf('/'), 1));
        const maxAge = attribute('max-age');
        const expires = attribute('expires');
        const expired =
          maxAge !== undefined ? Number(maxAge) <= 0 : expires !== undefined && Date.parse(expires) <= now;
        const key = `${name};${path}`;
        if (expired) cookies.delete(key);
        else cookies.set(key, { name, value: pair.slice(at + 1).trim(), path });
      }
    },
  };

  return {
    middleware,
    /** The names of the cookies stored, sorted. */
    names: () => [...new Set([...cookies.values()].map((c) => c.name))].sort(),
    value: (name: string) => [...cookies.values()].find((c) => c.name === name)?.value,
  };
}

/** The CSRF token of a web sign-in or refresh answer, which the document describes as either kind of session. */
export function csrfTokenOf(body: object | undefined): string {
  const token = body && 'csrfToken' in body ? body.csrfToken : undefined;
  if (typeof token !== 'string' || token === '') throw new Error('the answer carries no csrfToken');
  return token;
}
