import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admission } from '../../src/http/admission.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../support/auth.js';
import { requestInFlight } from '../support/server-process.js';

/** A server whose `/hold/:id` requests stay running until the test releases them; `/now` answers at once. */
async function heldServer(maxInFlight: number) {
  const queueLengths: number[] = [];
  const held = new Map<string, () => void>();
  const started: string[] = [];
  const app = express();
  app.use(admission(maxInFlight, (n) => queueLengths.push(n)));
  app.get('/hold/:id', (req, res) => {
    started.push(req.params.id);
    held.set(req.params.id, () => res.json({ id: req.params.id }));
  });
  app.get('/now', (_req, res) => res.json({ ok: true }));
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    started,
    queueLengths,
    release: (id: string) => held.get(id)?.(),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('admission', () => {
  it('runs at most the cap at once; the next request starts when one ends, first come first served', async () => {
    const s = await heldServer(1);
    try {
      const a = fetch(`${s.url}/hold/a`);
      await expect.poll(() => s.started).toEqual(['a']);
      const b = fetch(`${s.url}/hold/b`);
      await expect.poll(() => s.queueLengths.at(-1)).toBe(1);
      const c = fetch(`${s.url}/hold/c`);
      await expect.poll(() => s.queueLengths.at(-1)).toBe(2);
      expect(s.started).toEqual(['a']);
      s.release('a');
      await a;
      await expect.poll(() => s.started).toEqual(['a', 'b']);
      s.release('b');
      await b;
      await expect.poll(() => s.started).toEqual(['a', 'b', 'c']);
      s.release('c');
      expect((await c).status).toBe(200);
      expect(s.queueLengths.at(-1)).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('drops a waiting request whose client has gone, without running it', async () => {
    const s = await heldServer(1);
    try {
      const a = fetch(`${s.url}/hold/a`);
      await expect.poll(() => s.started).toEqual(['a']);
      const gone = new AbortController();
      const b = fetch(`${s.url}/hold/b`, { signal: gone.signal }).catch(() => 'aborted');
      await expect.poll(() => s.queueLengths.at(-1)).toBe(1);
      gone.abort();
      expect(await b).toBe('aborted');
      const c = fetch(`${s.url}/now`);
      await expect.poll(() => s.queueLengths.at(-1)).toBe(2);
      s.release('a');
      await a;
      expect((await c).status).toBe(200);
      expect(s.started).toEqual(['a']);
    } finally {
      await s.close();
    }
  });
});

describe('admission in the application', () => {
  let t: TestApp;
  let user: SignedInUser;
  beforeAll(async () => {
    t = await startTestApp({ env: { HTTP_MAX_IN_FLIGHT: '1' } });
    user = await registerUser(t);
  });
  afterAll(() => t.close());

  it('never makes a probe wait, while API requests wait for the one running', async () => {
    const port = (t.app.address() as AddressInfo).port;
    // A sign-out whose body is half sent holds the only slot until the rest of its body arrives.
    const held = requestInFlight(port);
    await held.accepted;
    let answered = false;
    const waiting = request(t.app)
      .get('/api/v1/users/me')
      .set(bearer(user.accessToken))
      .then((r) => {
        answered = true;
        return r.status;
      });
    expect((await request(t.app).get('/health/liveness')).status).toBe(200);
    expect((await request(t.app).get('/health/readiness')).status).toBe(200);
    expect((await request(t.app).get('/health/startup')).status).toBe(200);
    expect(answered).toBe(false);
    held.finish();
    expect((await held.response).status).toBe(204);
    expect(await waiting).toBe(200);
  });
});
