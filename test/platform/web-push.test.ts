import { createECDH, generateKeyPairSync, sign } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPushSender,
  MAX_PAYLOAD_BYTES,
  PushGoneError,
  PushRefusedError,
  type PushSenderOptions,
} from '../../src/platform/web-push.js';
import { type PushService, startPushService } from '../support/push-service.js';

/** A VAPID key pair as the config derives it: the private key, and the public key from it. */
function vapidKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { privateKey: ecdh.getPrivateKey('base64url'), publicKey: ecdh.getPublicKey('base64url') };
}

const VAPID = { ...vapidKeys(), subject: 'mailto:ops@mingus.test' };
const reminder = {
  type: 'reminder',
  reminderId: '0b6f3c1e-2f4a-4d59-9a57-6a3b1c2d4e5f',
  title: 'Pay rent ✓',
  dueDate: '2026-12-01',
};

let pushService: PushService;
beforeAll(async () => {
  pushService = await startPushService();
});
afterAll(() => pushService.close());

const sender = (options: Partial<PushSenderOptions> = {}) =>
  createPushSender({ ...VAPID, agent: pushService.agent, ...options });

/** The error a send rejects with (it must reject). */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  if (!outcome) throw new Error('the send succeeded');
  return outcome;
}

describe('Web Push sender', () => {
  it('when sent, the push service gets a valid VAPID signature and the payload decrypts to what was sent', async () => {
    const subscription = pushService.newSubscription();
    await sender().send(subscription, reminder, { ttlSeconds: 3600, urgency: 'high' });

    expect(subscription.received).toEqual([reminder]);
    const request = pushService.requests.find((r) => subscription.endpoint.endsWith(r.path));
    expect(request?.problem).toBeUndefined();
    expect(request?.status).toBe(201);
    expect(request?.vapid).toEqual({
      aud: pushService.origin,
      exp: expect.any(Number),
      sub: VAPID.subject,
      publicKey: VAPID.publicKey,
    });
    expect(request?.headers).toEqual({ ttl: '3600', urgency: 'high', contentEncoding: 'aes128gcm' });
  });

  it('when no urgency is given, sends it as normal', async () => {
    const subscription = pushService.newSubscription();
    await sender().send(subscription, reminder, { ttlSeconds: 0 });
    const request = pushService.requests.find((r) => subscription.endpoint.endsWith(r.path));
    expect(request?.headers).toMatchObject({ ttl: '0', urgency: 'normal' });
    expect(subscription.received).toEqual([reminder]);
  });

  it.each([404, 410])('when the push service answers %i, rejects with PushGoneError', async (status) => {
    const subscription = pushService.newSubscription();
    pushService.answer(subscription.endpoint, status);
    const err = await failureOf(sender().send(subscription, reminder, { ttlSeconds: 60 }));
    expect(err).toBeInstanceOf(PushGoneError);
    expect(err).toMatchObject({ statusCode: status });
    expect(subscription.received).toEqual([]);
  });

  it.each([400, 403, 413])(
    'when the push service answers %i, rejects with a PushRefusedError, not gone',
    async (status) => {
      const subscription = pushService.newSubscription();
      pushService.answer(subscription.endpoint, status);
      const err = await failureOf(sender().send(subscription, reminder, { ttlSeconds: 60 }));
      expect(err).toBeInstanceOf(PushRefusedError);
      expect(err).not.toBeInstanceOf(PushGoneError);
      expect(err).toMatchObject({ statusCode: status });
    },
  );

  it.each([429, 500, 503])(
    'when the push service answers %i, rejects with an ordinary error (worth a retry)',
    async (status) => {
      const subscription = pushService.newSubscription();
      pushService.answer(subscription.endpoint, status);
      const err = await failureOf(sender().send(subscription, reminder, { ttlSeconds: 60 }));
      expect(err).not.toBeInstanceOf(PushRefusedError);
      expect(err.message).toBe(`the push service answered ${status}`);
    },
  );

  it('when the push service does not answer, gives up after the timeout with an ordinary error', async () => {
    const subscription = pushService.newSubscription();
    pushService.answer(subscription.endpoint, 'hang');
    const started = performance.now();
    const err = await failureOf(sender({ timeoutMs: 300 }).send(subscription, reminder, { ttlSeconds: 60 }));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(err).not.toBeInstanceOf(PushRefusedError);
    expect(err.message).toMatch(/^could not reach the push service: /);
  });

  it('when the push service cannot be reached, rejects with an ordinary error', async () => {
    const subscription = pushService.newSubscription();
    const unreachable = { ...subscription, endpoint: subscription.endpoint.replace(/:\d+\//, ':1/') };
    const err = await failureOf(sender().send(unreachable, reminder, { ttlSeconds: 60 }));
    expect(err).not.toBeInstanceOf(PushRefusedError);
    expect(err.message).toBe('could not reach the push service: ECONNREFUSED');
  });

  it("when the push service's certificate is not trusted, sends nothing", async () => {
    const subscription = pushService.newSubscription();
    const before = pushService.requests.length;
    const err = await failureOf(createPushSender(VAPID).send(subscription, reminder, { ttlSeconds: 60 }));
    expect(err).not.toBeInstanceOf(PushRefusedError);
    expect(err.message).toMatch(/^could not reach the push service: /);
    expect(pushService.requests.length).toBe(before);
  });

  it('when a failure is reported, its message never holds the endpoint (a capability URL)', async () => {
    const subscription = pushService.newSubscription();
    const secretPath = new URL(subscription.endpoint).pathname;
    const messages: string[] = [];
    for (const status of [404, 413, 500, 'hang'] as const) {
      pushService.answer(subscription.endpoint, status);
      const err = await failureOf(sender({ timeoutMs: 300 }).send(subscription, reminder, { ttlSeconds: 60 }));
      messages.push(err.message, String(err.stack), JSON.stringify(err));
    }
    for (const text of messages) expect(text).not.toContain(secretPath.slice(6));
  });

  it('when the payload is over what a push carries, refuses it before sending anything', async () => {
    const subscription = pushService.newSubscription();
    const before = pushService.requests.length;
    const big = { ...reminder, title: 'x'.repeat(MAX_PAYLOAD_BYTES) };
    const err = await failureOf(sender().send(subscription, big, { ttlSeconds: 60 }));
    expect(err).toBeInstanceOf(PushRefusedError);
    expect(err).toMatchObject({ statusCode: undefined });
    expect(pushService.requests.length).toBe(before);
  });

  it('when the payload is exactly the largest a push carries, it is delivered', async () => {
    const subscription = pushService.newSubscription();
    const empty = JSON.stringify({ ...reminder, title: '' }).length;
    const largest = { ...reminder, title: 'x'.repeat(MAX_PAYLOAD_BYTES - empty) };
    await sender().send(subscription, largest, { ttlSeconds: 60 });
    expect(subscription.received).toEqual([largest]);
  });

  it("when the subscription's keys are malformed, refuses it without sending", async () => {
    const subscription = pushService.newSubscription();
    const before = pushService.requests.length;
    const offCurve = Buffer.from(subscription.keys.p256dh, 'base64url');
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    for (const keys of [
      { ...subscription.keys, p256dh: offCurve.toString('base64url') },
      { ...subscription.keys, auth: 'c2hvcnQ' },
    ]) {
      const err = await failureOf(sender().send({ ...subscription, keys }, reminder, { ttlSeconds: 60 }));
      expect(err).toBeInstanceOf(PushRefusedError);
    }
    expect(pushService.requests.length).toBe(before);
  });

  it('when the VAPID keys or subject are wrong, refuses to be created', () => {
    expect(() => createPushSender({ ...VAPID, privateKey: 'c2hvcnQ' })).toThrow();
    expect(() => createPushSender({ ...VAPID, publicKey: vapidKeys().publicKey })).toThrow(/not the private key's/);
    expect(() => createPushSender({ ...VAPID, subject: 'ops@mingus.test' })).toThrow();
  });
});

describe('the local push service (the oracle of the tests above)', () => {
  it('when a push comes without a valid VAPID signature, refuses it with 403 and delivers nothing', async () => {
    const subscription = pushService.newSubscription();
    const other = vapidKeys();
    const forged = `vapid t=${signedElsewhere()}, k=${other.publicKey}`;
    for (const authorization of [undefined, 'WebPush abc', forged]) {
      const res = await fetchWith(subscription.endpoint, authorization);
      expect(res, String(authorization)).toBe(403);
    }
    expect(subscription.received).toEqual([]);
    expect(pushService.requests.filter((r) => subscription.endpoint.endsWith(r.path)).map((r) => r.problem)).toEqual([
      'no vapid Authorization header',
      'no vapid Authorization header',
      'the signature does not verify with k',
    ]);
  });
});

/** A JWT signed by a key other than the one its header will name. */
function signedElsewhere(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ typ: 'JWT', alg: 'ES256' })}.${part({ aud: pushService.origin, exp: Math.floor(Date.now() / 1000) + 600, sub: VAPID.subject })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** POSTs an empty push to `endpoint` through the trusting agent; answers the status. */
function fetchWith(endpoint: string, authorization: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(endpoint, {
      method: 'POST',
      agent: pushService.agent,
      headers: { TTL: '60', ...(authorization ? { Authorization: authorization } : {}) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
