import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../../src/modules/audit/audit.port.js';
import { MAX_PUSH_SUBSCRIPTIONS_PER_USER } from '../../../src/modules/push/push.schemas.js';
import { createPushService } from '../../../src/modules/push/push.service.js';
import { createFieldCipher, FieldDecryptionError, fieldContext } from '../../../src/platform/crypto.js';
import { createPushSender, PushGoneError } from '../../../src/platform/web-push.js';
import { baseUrlOf, csrfTokenOf, mobileClient, servedDocument, WEB, webClient } from '../../contract/clients.js';
import { createContract, expectNoViolations } from '../../contract/contract.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, GOOD_PASSWORD, registerUser, type SignedInUser } from '../../support/auth.js';
import { type PushService, startPushService } from '../../support/push-service.js';

const PATH = '/api/v1/users/me/push-subscriptions';

/** The app's clock: one second later at each reading, so registrations have a strict order without sleeping. */
const START = Date.parse('2026-11-25T10:00:00.000Z');
let ticks = 0;
const now = () => new Date(START + ticks++ * 1000);

let t: TestApp;
let pushService: PushService;
beforeAll(async () => {
  t = await startTestApp({ now });
  pushService = await startPushService();
});
afterAll(async () => {
  await t.close();
  await pushService.close();
});

/** A public key whose base64 spelling differs from its base64url one (one key in 16 spells the same in both). */
function base64WithPlusOrSlash(): string {
  for (;;) {
    const ecdh = createECDH('prime256v1');
    const spelled = ecdh.generateKeys().toString('base64');
    if (/[+/]/.test(spelled)) return spelled;
  }
}

/** What `PushSubscription.toJSON()` gives in a browser: a push service URL and a fresh key pair. */
function browserSubscription(endpoint = `https://push.example.com/fcm/send/${randomUUID()}`) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}
type BrowserSubscription = ReturnType<typeof browserSubscription>;

const register = (user: SignedInUser, body: object) =>
  request(t.app).post(PATH).set(bearer(user.accessToken)).send(body);
const list = (user: SignedInUser) => request(t.app).get(PATH).set(bearer(user.accessToken));
const unregister = (user: SignedInUser, id: string) =>
  request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken));

async function registered(user: SignedInUser, body: BrowserSubscription = browserSubscription()) {
  const res = await register(user, body);
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, subscription: body };
}

const rowsOf = (userId: string) =>
  t.db.prisma.pushSubscription.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });

/**
 * The keys as stored, decrypted under the convention every encrypted column follows (keys:rotate relies on it): the
 * owner's context and the row's id.
 */
function storedKeys(userId: string, row: { id: string; keysEnc: string } | undefined) {
  const cipher = createFieldCipher(t.config.fieldEncryption);
  return JSON.parse(
    cipher.decrypt(row?.keysEnc ?? '', fieldContext('push_subscriptions', 'keys_enc', userId), row?.id),
  );
}

const auditOf = async (userId: string) =>
  (
    await t.db.prisma.auditLog.findMany({
      where: { userId, action: { startsWith: 'push_subscription.' } },
      orderBy: { createdAt: 'asc' },
    })
  ).map((e) => ({ action: e.action, targetId: e.targetId, ip: e.ip, requestId: e.requestId }));

/** The service as the app builds it, on the test app's database; `publicEndpointsOnly` as in production. */
const pushServiceOf = (options: { publicEndpointsOnly: boolean }) =>
  createPushService({
    db: t.db,
    auditLog: createAuditLog(),
    cipher: createFieldCipher(t.config.fieldEncryption),
    publicKey: t.config.push.publicKey,
    now,
    ...options,
  });

describe('POST /api/v1/users/me/push-subscriptions', () => {
  it('when a browser registers, answers 201 with the id and origin only, and stores the keys encrypted', async () => {
    const user = await registerUser(t);
    const body = browserSubscription();
    const res = await register(user, body);

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      endpointOrigin: 'https://push.example.com',
      createdAt: expect.any(String),
    });
    expect(res.text).not.toContain(new URL(body.endpoint).pathname);
    const [row, ...others] = await rowsOf(user.id);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ id: res.body.id, endpoint: body.endpoint });
    expect(row?.createdAt.toISOString()).toBe(res.body.createdAt);
    expect(row?.keysEnc).not.toContain(body.keys.p256dh);
    expect(row?.keysEnc).not.toContain(body.keys.auth);
    expect(storedKeys(user.id, row)).toEqual(body.keys);
    expect(await auditOf(user.id)).toEqual([
      {
        action: 'push_subscription.create',
        targetId: res.body.id,
        ip: expect.any(String),
        requestId: res.headers['x-request-id'],
      },
    ]);
  });

  it('when the same browser registers again with new keys, answers 200 with the same id and keeps one row', async () => {
    const user = await registerUser(t);
    const { id, subscription } = await registered(user);
    const renewed = { ...browserSubscription(subscription.endpoint) };
    const res = await register(user, renewed);

    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
    const rows = await rowsOf(user.id);
    expect(rows).toHaveLength(1);
    expect(storedKeys(user.id, rows[0])).toEqual(renewed.keys);
    // A renewal by its own user is no change worth an entry.
    expect((await auditOf(user.id)).map((e) => e.action)).toEqual(['push_subscription.create']);
  });

  it('when another account registers the same endpoint, moves it there: 200, and the first account no longer has it', async () => {
    const ann = await registerUser(t);
    const bob = await registerUser(t);
    const { id, subscription } = await registered(ann);
    const bobs = browserSubscription(subscription.endpoint);
    const res = await register(bob, bobs);

    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
    expect(await rowsOf(ann.id)).toEqual([]);
    const [moved] = await rowsOf(bob.id);
    expect(moved?.endpoint).toBe(subscription.endpoint);
    // Encrypted again for its new owner: bound to Bob, it must not decrypt as Ann's.
    expect(storedKeys(bob.id, moved)).toEqual(bobs.keys);
    expect(() => storedKeys(ann.id, moved)).toThrow();
    expect((await list(ann)).body.data).toEqual([]);
    expect((await list(bob)).body.data.map((s: { id: string }) => s.id)).toEqual([id]);
    // Ann's trail says it left her account, without Bob's address or request.
    expect(await auditOf(ann.id)).toEqual([
      expect.objectContaining({ action: 'push_subscription.create', targetId: id }),
      { action: 'push_subscription.delete', targetId: id, ip: null, requestId: null },
    ]);
    expect(await auditOf(bob.id)).toEqual([
      expect.objectContaining({
        action: 'push_subscription.create',
        targetId: id,
        requestId: res.headers['x-request-id'],
      }),
    ]);
  });

  it('when expirationTime is sent (a number or null) or the keys are padded, accepts it and stores the keys unpadded', async () => {
    const user = await registerUser(t);
    const withTime = { ...browserSubscription(), expirationTime: 1_900_000_000_000 };
    expect((await register(user, withTime)).status).toBe(201);
    const padded = browserSubscription();
    const res = await register(user, {
      endpoint: padded.endpoint,
      keys: { p256dh: `${padded.keys.p256dh}=`, auth: `${padded.keys.auth}==` },
    });
    expect(res.status).toBe(201);
    const row = await t.db.prisma.pushSubscription.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(storedKeys(user.id, row)).toEqual(padded.keys);
  });

  it('when the keys object holds a key beyond p256dh and auth, drops it (a browser may add one)', async () => {
    const user = await registerUser(t);
    const body = browserSubscription();
    const res = await register(user, { ...body, keys: { ...body.keys, future: 'x' } });
    expect(res.status).toBe(201);
    const row = await t.db.prisma.pushSubscription.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(storedKeys(user.id, row)).toEqual(body.keys);
  });

  describe('when a field is invalid, answers 422 naming it and stores nothing', () => {
    const valid = browserSubscription();
    const p256dh = Buffer.from(valid.keys.p256dh, 'base64url');
    const offCurve = Buffer.from(p256dh);
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    const compressedPrefix = Buffer.from(p256dh);
    compressedPrefix[0] = 0x03;
    const b64url = (bytes: Buffer) => bytes.toString('base64url');
    const withKeys = (keys: object) => ({ ...valid, keys: { ...valid.keys, ...keys } });

    const cases: Array<[string, object, string]> = [
      ['an http: endpoint', { ...valid, endpoint: 'http://push.example.com/x' }, 'body.endpoint'],
      ['an endpoint that is not a URL', { ...valid, endpoint: 'push.example.com/x' }, 'body.endpoint'],
      [
        'an endpoint with credentials',
        // Assembled, so that no credential-shaped URL sits in the source for the secret scanner to flag.
        { ...valid, endpoint: `https://${['user', 'secret'].join(':')}@push.example.com/x` },
        'body.endpoint',
      ],
      ['an endpoint with a user name only', { ...valid, endpoint: 'https://user@push.example.com/x' }, 'body.endpoint'],
      [
        'an endpoint over 2048 characters',
        { ...valid, endpoint: `https://push.example.com/${'x'.repeat(2024)}` },
        'body.endpoint',
      ],
      ['no endpoint', { keys: valid.keys }, 'body.endpoint'],
      ['no keys', { endpoint: valid.endpoint }, 'body.keys'],
      ['a p256dh of 64 bytes', withKeys({ p256dh: b64url(p256dh.subarray(1)) }), 'body.keys.p256dh'],
      [
        'a p256dh of 66 bytes',
        withKeys({ p256dh: b64url(Buffer.concat([p256dh, Buffer.from([1])])) }),
        'body.keys.p256dh',
      ],
      ['a p256dh not starting 0x04', withKeys({ p256dh: b64url(compressedPrefix) }), 'body.keys.p256dh'],
      ['a p256dh off the curve', withKeys({ p256dh: b64url(offCurve) }), 'body.keys.p256dh'],
      ['a p256dh in base64, not base64url', withKeys({ p256dh: base64WithPlusOrSlash() }), 'body.keys.p256dh'],
      [
        'a p256dh with a character outside base64url',
        withKeys({ p256dh: `${valid.keys.p256dh.slice(0, -1)}!` }),
        'body.keys.p256dh',
      ],
      [
        'a p256dh with stray trailing bits',
        withKeys({ p256dh: `${valid.keys.p256dh.slice(0, -1)}${valid.keys.p256dh.endsWith('A') ? 'B' : 'A'}` }),
        'body.keys.p256dh',
      ],
      ['an auth of 15 bytes', withKeys({ auth: b64url(randomBytes(15)) }), 'body.keys.auth'],
      ['an auth of 17 bytes', withKeys({ auth: b64url(randomBytes(17)) }), 'body.keys.auth'],
      ['an auth in plain text', withKeys({ auth: 'not base64url at all!' }), 'body.keys.auth'],
      ['an empty auth', withKeys({ auth: '' }), 'body.keys.auth'],
      ['a numeric auth', withKeys({ auth: 1234 }), 'body.keys.auth'],
      ['a negative expirationTime', { ...valid, expirationTime: -1 }, 'body.expirationTime'],
      ['an unknown field', { ...valid, userId: randomUUID() }, 'body'],
    ];

    it.each(cases)('%s', async (_what, body, path) => {
      const user = await registerUser(t);
      const res = await register(user, body);
      expect(res.status).toBe(422);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/\/validation-failed$/);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(await rowsOf(user.id)).toEqual([]);
    });
  });

  it(`when the account holds ${MAX_PUSH_SUBSCRIPTIONS_PER_USER}, registering one more removes the one registered least recently`, async () => {
    const user = await registerUser(t);
    const held = [];
    for (let i = 0; i < MAX_PUSH_SUBSCRIPTIONS_PER_USER; i++) held.push(await registered(user));
    const [first, second] = held;
    // Registered again, the first is now the most recent: the second is the oldest.
    expect((await register(user, first?.subscription ?? {})).status).toBe(200);

    const res = await register(user, browserSubscription());
    expect(res.status).toBe(201);
    const ids = (await rowsOf(user.id)).map((r) => r.id);
    expect(ids).toHaveLength(MAX_PUSH_SUBSCRIPTIONS_PER_USER);
    expect(ids).not.toContain(second?.id);
    expect(ids).toEqual(expect.arrayContaining([first?.id, res.body.id]));
    expect(await auditOf(user.id)).toContainEqual(
      expect.objectContaining({
        action: 'push_subscription.delete',
        targetId: second?.id,
        requestId: res.headers['x-request-id'],
      }),
    );
  });

  it('when many registrations race at the cap, no more than the cap remain', async () => {
    const user = await registerUser(t);
    const results = await Promise.all(
      Array.from({ length: MAX_PUSH_SUBSCRIPTIONS_PER_USER + 5 }, () => register(user, browserSubscription())),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    expect(await rowsOf(user.id)).toHaveLength(MAX_PUSH_SUBSCRIPTIONS_PER_USER);
  });

  it('when retried with the same Idempotency-Key, answers the first answer again', async () => {
    const user = await registerUser(t);
    const body = browserSubscription();
    const key = randomUUID();
    const first = await register(user, body).set('Idempotency-Key', key);
    const again = await register(user, body).set('Idempotency-Key', key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await rowsOf(user.id)).toHaveLength(1);
  });
});

describe('GET /api/v1/users/me/push-subscriptions', () => {
  it('when listed, answers the VAPID public key and the subscriptions newest first, never an endpoint path', async () => {
    const user = await registerUser(t);
    const older = await registered(user);
    const newer = await registered(
      user,
      browserSubscription(`https://updates.push.services.mozilla.com/wpush/v2/${randomUUID()}`),
    );
    const res = await list(user);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      publicKey: t.config.push.publicKey,
      data: [
        { id: newer.id, endpointOrigin: 'https://updates.push.services.mozilla.com', createdAt: expect.any(String) },
        { id: older.id, endpointOrigin: 'https://push.example.com', createdAt: expect.any(String) },
      ],
    });
    expect(Buffer.from(res.body.publicKey, 'base64url')).toHaveLength(65);
    for (const { subscription } of [older, newer]) {
      expect(res.text).not.toContain(new URL(subscription.endpoint).pathname);
      expect(res.text).not.toContain(subscription.keys.auth);
    }
  });

  it('when the account has none, answers an empty list with the key', async () => {
    const user = await registerUser(t);
    expect((await list(user)).body).toEqual({ publicKey: t.config.push.publicKey, data: [] });
  });
});

describe('DELETE /api/v1/users/me/push-subscriptions/:id', () => {
  it('when deleted, answers 204 and it is gone; deleting it again answers 404', async () => {
    const user = await registerUser(t);
    const { id } = await registered(user);
    const res = await unregister(user, id);
    expect(res.status).toBe(204);
    expect(await rowsOf(user.id)).toEqual([]);
    expect((await auditOf(user.id)).map((e) => [e.action, e.targetId])).toEqual([
      ['push_subscription.create', id],
      ['push_subscription.delete', id],
    ]);
    const again = await unregister(user, id);
    expect(again.status).toBe(404);
    expect(again.type).toBe('application/problem+json');
  });

  it("when the id is another user's, answers 404 and the subscription stays", async () => {
    const ann = await registerUser(t);
    const bob = await registerUser(t);
    const { id } = await registered(ann);
    const res = await unregister(bob, id);
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/\/not-found$/);
    expect(await rowsOf(ann.id)).toHaveLength(1);
  });

  it('when the id is not a UUID, answers 400 naming it', async () => {
    const user = await registerUser(t);
    const res = await unregister(user, 'not-a-uuid');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['params.id']);
  });
});

describe('who may call the push-subscription routes', () => {
  it('when not signed in, answers 401', async () => {
    for (const res of [
      await request(t.app).get(PATH),
      await request(t.app).post(PATH).send(browserSubscription()),
      await request(t.app).delete(`${PATH}/${randomUUID()}`),
    ]) {
      expect(res.status).toBe(401);
      expect(res.type).toBe('application/problem+json');
    }
  });

  it('when called with a personal API key, answers 403 api-key-not-allowed, even to list', async () => {
    const user = await registerUser(t);
    const created = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'script', password: user.password });
    const key = created.body.key as string;
    const listed = await request(t.app).get(PATH).set(bearer(key));
    const posted = await request(t.app).post(PATH).set(bearer(key)).send(browserSubscription());
    for (const res of [listed, posted]) {
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/\/api-key-not-allowed$/);
    }
    expect(await rowsOf(user.id)).toEqual([]);
  });
});

describe('push subscriptions in production (public push services only)', () => {
  const production = () => pushServiceOf({ publicEndpointsOnly: true });
  const ctx = { ip: '203.0.113.7', requestId: randomUUID(), userAgent: undefined };

  it.each([
    'https://127.0.0.1/push/x',
    'https://2130706433/push/x',
    'https://[::1]/push/x',
    'https://10.0.0.8/push/x',
    'https://localhost/push/x',
    'https://localhost./push/x',
    'https://metadata/computeMetadata',
    'https://redis.default.svc.cluster.local/x',
    'https://push.internal/x',
    'https://fcm.googleapis.com:8443/fcm/send/x',
  ])('when the endpoint is %s, refuses it with 422 naming body.endpoint and stores nothing', async (endpoint) => {
    const user = await registerUser(t);
    const err = await production()
      .register(user.id, browserSubscription(endpoint), ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'validation-failed', fields: [{ path: 'body.endpoint' }] });
    expect(await rowsOf(user.id)).toEqual([]);
  });

  it("when the endpoint is a browser vendor's push service, registers it", async () => {
    const user = await registerUser(t);
    for (const endpoint of [
      `https://fcm.googleapis.com/fcm/send/${randomUUID()}`,
      `https://updates.push.services.mozilla.com/wpush/v2/${randomUUID()}`,
      `https://web.push.apple.com/${randomUUID()}`,
      `https://wns2-par02p.notify.windows.com/w/?token=${randomUUID()}`,
    ]) {
      const { created } = await production().register(user.id, browserSubscription(endpoint), ctx);
      expect(created).toBe(true);
    }
    expect(await rowsOf(user.id)).toHaveLength(4);
  });
});

describe('from registration to delivery', () => {
  it('when registered through the API, a push sent to it reaches the browser; once gone, it is removed', async () => {
    const user = await registerUser(t);
    const browser = pushService.newSubscription();
    const { id } = await registered(user, { endpoint: browser.endpoint, keys: browser.keys, expirationTime: null });
    const service = pushServiceOf({ publicEndpointsOnly: false });
    const sender = createPushSender({ ...t.config.push, agent: pushService.agent });

    const [target, ...others] = await service.subscriptionsOf(user.id);
    expect(others).toEqual([]);
    expect(target).toEqual({ id, endpoint: browser.endpoint, keys: browser.keys });
    const payload = { type: 'reminder', reminderId: randomUUID(), title: 'Pay rent', dueDate: '2026-12-01' };
    await sender.send(browser, payload, { ttlSeconds: 3600 });
    expect(browser.received).toEqual([payload]);

    pushService.answer(browser.endpoint, 410);
    const err = await sender.send(browser, payload, { ttlSeconds: 3600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushGoneError);
    await service.removeGone(id);
    expect(await rowsOf(user.id)).toEqual([]);
    await service.removeGone(id); // already gone: not an error
  });
});

describe('keys at rest', () => {
  it("when one subscription's encrypted keys are copied into another subscription of the same user, sending to it fails rather than using them", async () => {
    const user = await registerUser(t);
    const first = await registered(user, browserSubscription(`https://fcm.googleapis.com/fcm/send/${randomUUID()}`));
    const second = await registered(user, browserSubscription(`https://fcm.googleapis.com/fcm/send/${randomUUID()}`));
    const service = pushServiceOf({ publicEndpointsOnly: false });
    expect((await service.subscriptionsOf(user.id)).map((s) => s.id).sort()).toEqual([first.id, second.id].sort());

    await t.db.pool.query(
      'UPDATE push_subscriptions SET keys_enc = (SELECT keys_enc FROM push_subscriptions WHERE id = $1) WHERE id = $2',
      [first.id, second.id],
    );
    await expect(service.subscriptionsOf(user.id)).rejects.toBeInstanceOf(FieldDecryptionError);
  });

  it('when a subscription is registered again, or taken over by another account, its keys stay readable, bound to its row', async () => {
    const [ann, bob] = [await registerUser(t), await registerUser(t)];
    const endpoint = `https://fcm.googleapis.com/fcm/send/${randomUUID()}`;
    const { id } = await registered(ann, browserSubscription(endpoint));
    expect((await register(ann, browserSubscription(endpoint))).status).toBe(200);
    const again = await register(bob, browserSubscription(endpoint));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(id);
    const service = pushServiceOf({ publicEndpointsOnly: false });
    expect((await service.subscriptionsOf(bob.id)).map((s) => s.id)).toEqual([id]);
    const { rows } = await t.db.pool.query('SELECT keys_enc FROM push_subscriptions WHERE id = $1', [id]);
    expect(rows[0].keys_enc).toMatch(/^v2\./);
  });
});

describe('your data', () => {
  it('when exported, the section lists each subscription with its full endpoint and no keys', async () => {
    const user = await registerUser(t);
    const { id, subscription } = await registered(user);
    const res = await request(t.app).get('/api/v1/users/me/export').set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.sections.pushSubscriptions).toEqual([
      {
        id,
        endpoint: subscription.endpoint,
        endpointOrigin: 'https://push.example.com',
        createdAt: expect.any(String),
      },
    ]);
    expect(res.text).not.toContain(subscription.keys.auth);
    expect(res.text).not.toContain(subscription.keys.p256dh);
  });

  it('when the account is erased, its subscriptions go with it', async () => {
    const user = await registerUser(t);
    await registered(user);
    await registered(user);
    const res = await request(t.app)
      .delete('/api/v1/users/me')
      .set(bearer(user.accessToken))
      .send({ password: user.password });
    expect(res.status).toBe(204);
    expect(await rowsOf(user.id)).toEqual([]);
  });
});

describe('clients, as documented', () => {
  it('when a mobile client registers, renews, lists and deletes a subscription, every call is as documented', async () => {
    const contract = createContract(await servedDocument(t));
    const phone = mobileClient(baseUrlOf(t), contract);
    const user = await registerUser(t);
    phone.credentials.bearer = user.accessToken;
    const body = browserSubscription();

    const created = await phone.api.POST(PATH, { body, headers: { 'Idempotency-Key': randomUUID() } });
    expect(created.response.status).toBe(201);
    const renewed = await phone.api.POST(PATH, { body: browserSubscription(body.endpoint) });
    expect(renewed.response.status).toBe(200);
    const listed = await phone.api.GET(PATH);
    expect(listed.data?.data.map((s) => s.id)).toEqual([created.data?.id]);
    const invalid = await contract.mistake({ breaks: 'request body', what: 'an auth secret not in base64url' }, () =>
      phone.api.POST(PATH, { body: { ...body, keys: { ...body.keys, auth: 'not base64url!' } } }),
    );
    expect(invalid.response.status).toBe(422);
    const removed = await phone.api.DELETE(`${PATH}/{id}`, { params: { path: { id: created.data?.id ?? '' } } });
    expect(removed.response.status).toBe(204);
    expectNoViolations(contract);
  });

  it('when a web client registers with its cookie session, the CSRF token is required, as documented', async () => {
    const contract = createContract(await servedDocument(t));
    const browser = webClient(baseUrlOf(t), contract);
    const email = `web-${randomUUID()}@example.com`;
    await browser.api.POST('/api/v1/auth/register', { body: { email, password: GOOD_PASSWORD }, headers: WEB });
    const signedIn = await browser.api.POST('/api/v1/auth/login', {
      body: { email, password: GOOD_PASSWORD },
      headers: WEB,
    });
    const csrfToken = csrfTokenOf(signedIn.data);

    const listed = await browser.api.GET(PATH);
    expect(listed.data?.publicKey).toBe(t.config.push.publicKey);
    const refused = await contract.mistake(
      { breaks: ['request security', 'request header'], what: 'no X-CSRF-Token on a cookie session' },
      () => browser.api.POST(PATH, { body: browserSubscription() }),
    );
    expect(refused.response.status).toBe(403);
    expect(refused.error?.type).toMatch(/csrf-token-invalid$/);

    browser.session.csrfToken = csrfToken;
    const created = await browser.api.POST(PATH, { body: browserSubscription() });
    expect(created.response.status).toBe(201);
    expectNoViolations(contract);
  });
});
