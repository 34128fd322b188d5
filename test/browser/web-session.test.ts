import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { GOOD_PASSWORD } from '../support/auth.js';
import { checkinOn } from '../support/checkins.js';

/**
 * The web client's session (DESIGN.md §4 "Auth") in Debian's Chromium: what the browser itself does with our
 * cookies and CORS headers, which supertest cannot show (it stores whatever it is sent and reads every answer).
 *
 * Every origin is on `localhost`: Chromium counts http://localhost as potentially trustworthy, so it accepts
 * `Secure` and `__Host-`/`__Secure-` cookies there without TLS, and ports do not make sites, so the page and the
 * API (different ports) are same-site and SameSite=Strict cookies flow between them as they do between
 * app.mingus.example and api.mingus.example. 127.0.0.1 serves only as the one cross-site origin.
 */

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM);
// Like a missing Redis: a developer without Chromium skips, CI (which installs it in .ci/run) fails.
const skip = chromiumMissing && process.env.CI !== 'true';
if (skip) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const ACCESS = '__Host-mingus-access';
const REFRESH = '__Secure-mingus-refresh';
const CSRF = '__Host-mingus-csrf';
const SESSION_COOKIES = [ACCESS, CSRF, REFRESH];

/** What a page's fetch gave it: the answer as the page sees it, or the error fetch rejected with. */
type Seen = { status: number; type: string; body: string } | { rejected: string };

interface Site {
  origin: string;
  close(): Promise<void>;
}

/** A blank HTML page on `host`: the document whose origin the page's requests carry. */
async function servePage(host: 'localhost' | '127.0.0.1'): Promise<Site> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('<!doctype html><meta charset="utf-8"><title>Mingus web</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(skip)('the web session in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let api: string;
  let allowed: Site;
  /** Same-site as the API, so the browser sends it the session cookies, but not in CORS_ORIGINS. */
  let unlistedSameSite: Site;
  /** Another site altogether: SameSite=Strict keeps the cookies home. */
  let unlistedCrossSite: Site;

  beforeAll(async () => {
    if (chromiumMissing)
      throw new Error(`${CHROMIUM} is missing: CI must run the browser tests (apt-get install chromium)`);
    [allowed, unlistedSameSite, unlistedCrossSite] = await Promise.all([
      servePage('localhost'),
      servePage('localhost'),
      servePage('127.0.0.1'),
    ]);
    t = await startTestApp({ env: { CORS_ORIGINS: allowed.origin } });
    api = `http://localhost:${(t.app.address() as AddressInfo).port}/api/v1`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([allowed?.close(), unlistedSameSite?.close(), unlistedCrossSite?.close(), t?.close()]);
  });

  /** A page of `site` in a browser context of its own: an empty cookie jar, nothing shared with other tests. */
  async function open(site: Site, context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext())).newPage();
    await page.goto(`${site.origin}/`);
    return page;
  }

  /** `fetch` from inside the page, credentials included, as the web app calls the API. */
  function call(
    page: Page,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown; mode?: 'cors' | 'no-cors' } = {},
  ): Promise<Seen> {
    const headers = { ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers };
    return page.evaluate(
      async ({ url, method, headers, body, mode }) => {
        try {
          const res = await fetch(url, { method, headers, body, mode, credentials: 'include' });
          return { status: res.status, type: res.type, body: await res.text() };
        } catch (err) {
          return { rejected: String(err) };
        }
      },
      {
        url: `${api}${path}`,
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        mode: init.mode ?? 'cors',
      },
    );
  }

  const json = (seen: Seen): Record<string, unknown> => {
    if ('rejected' in seen) throw new Error(`fetch rejected: ${seen.rejected}`);
    return JSON.parse(seen.body) as Record<string, unknown>;
  };
  const statusOf = (seen: Seen) => ('rejected' in seen ? seen.rejected : seen.status);

  /** Registers a fresh account from `page` as the web app does; the csrf token is the only credential in the body. */
  async function signUp(page: Page): Promise<{ userId: string; csrfToken: string; body: Record<string, unknown> }> {
    const seen = await call(page, '/auth/register', {
      method: 'POST',
      headers: { 'X-Client': 'web' },
      body: { email: `browser-${randomUUID()}@example.com`, password: GOOD_PASSWORD },
    });
    expect(statusOf(seen)).toBe(201);
    const body = json(seen);
    return { userId: (body.user as { id: string }).id, csrfToken: body.csrfToken as string, body };
  }

  /** The statuses the API answered GET /users/me with, from its access log. */
  const meAnswers = () =>
    t
      .logs()
      .filter((line) => (line.req as { method?: string; url?: string } | undefined)?.url === '/api/v1/users/me')
      .map((line) => (line.res as { statusCode?: number } | undefined)?.statusCode);

  const sessionCookies = async (page: Page) =>
    (await page.context().cookies()).filter((c) => SESSION_COOKIES.includes(c.name));

  it('when a web client signs up from an allowed origin, the browser keeps the session in HttpOnly, Secure, SameSite=Strict cookies no script can read', async () => {
    const page = await open(allowed);
    const { body, csrfToken } = await signUp(page);

    expect(Object.keys(body).sort()).toEqual(['csrfToken', 'expiresIn', 'user']);
    expect(csrfToken).toEqual(expect.any(String));
    const stored = await sessionCookies(page);
    expect(stored.map((c) => c.name).sort()).toEqual([ACCESS, CSRF, REFRESH].sort());
    for (const cookie of stored) {
      // Host-only (no Domain attribute): the browser files them under the API's own host.
      expect(cookie).toMatchObject({ domain: 'localhost', httpOnly: true, secure: true, sameSite: 'Strict' });
    }
    const named = (name: string) => stored.find((c) => c.name === name);
    expect(named(ACCESS)?.path).toBe('/');
    expect(named(CSRF)?.path).toBe('/');
    // Sent to the auth routes only, so no other route (or its logs) ever sees the long-lived credential.
    expect(named(REFRESH)?.path).toBe('/api/v1/auth');
    // Each credential cookie lives as long as its token: the browser drops it when the server would refuse it.
    const now = Date.now() / 1000;
    const accessTtl = t.config.auth.accessTokenTtlSeconds;
    const refreshTtl = t.config.auth.refreshTokenTtlDays * 86_400;
    expect(named(ACCESS)?.expires).toBeGreaterThan(now + accessTtl - 60);
    expect(named(ACCESS)?.expires).toBeLessThanOrEqual(now + accessTtl);
    expect(named(REFRESH)?.expires).toBeGreaterThan(now + refreshTtl - 60);
    expect(named(REFRESH)?.expires).toBeLessThanOrEqual(now + refreshTtl);
    // The CSRF cookie outlives a browser restart with the refresh cookie, so the session can be resumed.
    expect(named(CSRF)?.expires).toBeGreaterThan(now + refreshTtl - 60);
    expect(named(CSRF)?.expires).toBeLessThanOrEqual(now + refreshTtl);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(json(await call(page, '/users/me'))).toMatchObject({ id: expect.any(String) });
  });

  it('when a signed-in web client writes, refreshes and signs out, each step takes the CSRF token of the moment and sign-out leaves no cookie', async () => {
    const page = await open(allowed);
    const { userId, csrfToken } = await signUp(page);
    const refreshCookie = async () => (await sessionCookies(page)).find((c) => c.name === REFRESH)?.value;
    const firstRefresh = await refreshCookie();

    const written = await call(page, '/checkins', {
      method: 'POST',
      headers: { 'X-CSRF-Token': csrfToken },
      body: checkinOn('2024-01-15'),
    });
    expect(statusOf(written)).toBe(201);

    const refreshed = await call(page, '/auth/refresh', {
      method: 'POST',
      headers: { 'X-Client': 'web', 'X-CSRF-Token': csrfToken },
    });
    expect(statusOf(refreshed)).toBe(200);
    const renewed = json(refreshed).csrfToken as string;
    expect(renewed).not.toBe(csrfToken);
    // Rotated: the refresh token the browser held is spent and it now holds the next one.
    expect(await refreshCookie()).not.toBe(firstRefresh);

    // The refresh replaced the CSRF cookie, which the token from before no longer matches.
    const stale = await call(page, '/checkins', {
      method: 'POST',
      headers: { 'X-CSRF-Token': csrfToken },
      body: checkinOn('2024-01-16'),
    });
    expect(statusOf(stale)).toBe(403);
    const fresh = await call(page, '/checkins', {
      method: 'POST',
      headers: { 'X-CSRF-Token': renewed },
      body: checkinOn('2024-01-17'),
    });
    expect(statusOf(fresh)).toBe(201);
    const dates = await t.db.prisma.userHealthCheckin.findMany({ where: { userId }, select: { checkinDate: true } });
    expect(dates.map((d) => d.checkinDate.toISOString().slice(0, 10)).sort()).toEqual(['2024-01-15', '2024-01-17']);

    const signedOut = await call(page, '/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': renewed } });
    expect(statusOf(signedOut)).toBe(204);
    expect(await sessionCookies(page)).toEqual([]);
    expect(statusOf(await call(page, '/users/me'))).toBe(401);
  });

  it('when the browser comes back with only its refresh cookie, the page gets a CSRF token, refreshes and is signed in again', async () => {
    const page = await open(allowed);
    await signUp(page);
    // What a browser restart a day later leaves: the 15-minute access cookie has expired; the refresh and CSRF
    // cookies last 30 days. The new page knows no CSRF token.
    await page.context().clearCookies({ name: ACCESS });
    await page.reload();
    expect((await sessionCookies(page)).map((c) => c.name).sort()).toEqual([CSRF, REFRESH].sort());
    expect(statusOf(await call(page, '/users/me'))).toBe(401);

    const issued = await call(page, '/auth/csrf');
    expect(statusOf(issued)).toBe(200);
    const refreshed = await call(page, '/auth/refresh', {
      method: 'POST',
      headers: { 'X-Client': 'web', 'X-CSRF-Token': json(issued).csrfToken as string },
    });
    expect(statusOf(refreshed)).toBe(200);
    expect(statusOf(await call(page, '/users/me'))).toBe(200);
  });

  it('when a cookie-authenticated state change carries no X-CSRF-Token, it is refused 403 and changes nothing', async () => {
    const page = await open(allowed);
    const { userId } = await signUp(page);
    const before = await sessionCookies(page);

    const write = await call(page, '/checkins', { method: 'POST', body: checkinOn('2024-01-15') });
    // The refresh and sign-out cookies are credentials the browser sends by itself too.
    const refresh = await call(page, '/auth/refresh', { method: 'POST', headers: { 'X-Client': 'web' } });
    const logout = await call(page, '/auth/logout', { method: 'POST' });

    for (const seen of [write, refresh, logout]) {
      expect(statusOf(seen)).toBe(403);
      expect(json(seen)).toMatchObject({ status: 403, type: expect.stringMatching(/\/csrf-token-invalid$/) });
    }
    expect(await t.db.prisma.userHealthCheckin.count({ where: { userId } })).toBe(0);
    expect(await sessionCookies(page)).toEqual(before);
    expect(statusOf(await call(page, '/users/me'))).toBe(200);
  });

  it('when a page from an origin not in CORS_ORIGINS calls the API, even with the session cookies, it can read no answer', async () => {
    const home = await open(allowed);
    const { userId, csrfToken } = await signUp(home);
    const cases = [
      // Same-site: the browser sends the cookies and the API answers the user's data (200) to the browser, which
      // withholds it from the page for want of Access-Control-Allow-Origin. A no-cors read is opaque.
      { site: unlistedSameSite, answered: 200, noCors: { status: 0, type: 'opaque', body: '' } },
      // Cross-site: SameSite=Strict keeps the cookies back (401), and Cross-Origin-Resource-Policy: same-site
      // makes even a no-cors read fail.
      { site: unlistedCrossSite, answered: 401, noCors: { rejected: expect.stringMatching(/TypeError/) } },
    ];

    for (const { site, answered, noCors } of cases) {
      // Same browser context: the signed-in session's cookies are in the jar these pages share.
      const page = await open(site, home.context());
      const answersBefore = meAnswers().length;

      expect(await call(page, '/users/me'), site.origin).toEqual({ rejected: expect.stringMatching(/TypeError/) });
      // The access log line is written once the response closes, which may come a moment after the browser's verdict.
      await vi.waitFor(() => expect(meAnswers().slice(answersBefore), site.origin).toEqual([answered]));
      expect(await call(page, '/users/me', { mode: 'no-cors' }), site.origin).toEqual(noCors);

      // JSON and X-CSRF-Token need a preflight, which the API does not grant: the write itself is never sent.
      const write = await call(page, '/checkins', {
        method: 'POST',
        headers: { 'X-CSRF-Token': csrfToken },
        body: checkinOn('2024-01-15'),
      });
      expect(write, site.origin).toEqual({ rejected: expect.stringMatching(/TypeError/) });
    }
    expect(await t.db.prisma.userHealthCheckin.count({ where: { userId } })).toBe(0);
  });
});
