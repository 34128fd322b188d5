import { execFileSync } from 'node:child_process';
import { createECDH, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The reference implementation of RFC 8188 by its author, which web-push itself uses; it ships no types. */
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(
    buffer: Buffer,
    params: { version: 'aes128gcm'; privateKey: ReturnType<typeof createECDH>; authSecret: Buffer },
  ): Buffer;
};

/** The claims of a VAPID JWT that passed verification, with the public key it was signed by. */
export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
  /** The `k` parameter: the sender's public key, base64url. */
  publicKey: string;
}

/** One request the push service received, whatever it answered. */
export interface PushRequest {
  path: string;
  headers: { ttl?: string; urgency?: string; contentEncoding?: string };
  /** Set when the VAPID header was valid. */
  vapid?: VapidClaims;
  /** Why the request was refused (bad VAPID, undecryptable body), when it was. */
  problem?: string;
  status: number | 'no answer';
}

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** The payloads delivered to this subscription, decrypted and parsed. */
  received: unknown[];
}

/** What the test makes the push service answer at an endpoint: a status, or `hang` (accept and never answer). */
export type PushAnswer = number | 'hang';

/**
 * A push service (RFC 8030) on a free port of 127.0.0.1, over HTTPS with a certificate made for the run by openssl.
 * Each subscription it hands out has a real key pair, as a browser's: a message to it is accepted only with a valid
 * VAPID header (ES256 over the claims, signed by `k`, `aud` this origin, `exp` ahead and within 24 h, `sub` set) and
 * an aes128gcm body that decrypts with the subscription's keys; it is then kept, decrypted, in `received`. An unknown
 * path is a 404, as for a push service; `answer(endpoint, status)` chooses what an endpoint answers from then on.
 */
export async function startPushService() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'push-service-'));
  const keyFile = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(caFile);

  const subscriptions = new Map<
    string,
    { subscription: TestSubscription; ecdh: ReturnType<typeof createECDH>; auth: Buffer }
  >();
  const answers = new Map<string, PushAnswer>();
  const requests: PushRequest[] = [];
  let origin = '';

  const server: Server = createServer({ key: readFileSync(keyFile), cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const urlPath = req.url ?? '/';
      const record: PushRequest = {
        path: urlPath,
        headers: {
          ttl: req.headers.ttl as string | undefined,
          urgency: req.headers.urgency as string | undefined,
          contentEncoding: req.headers['content-encoding'],
        },
        status: 'no answer',
      };
      requests.push(record);
      const reply = (status: number) => {
        record.status = status;
        res.writeHead(status, status === 201 ? { Location: `${origin}/messages/${randomUUID()}` } : {}).end();
      };

      const answer = answers.get(urlPath);
      if (answer === 'hang') return;
      const target = subscriptions.get(urlPath);
      if (!target) return reply(404);
      const vapid = verifyVapid(req.headers.authorization, origin);
      if (typeof vapid === 'string') {
        record.problem = vapid;
        return reply(403);
      }
      record.vapid = vapid;
      if (answer !== undefined && answer !== 201) return reply(answer);
      if (record.headers.contentEncoding !== 'aes128gcm' || record.headers.ttl === undefined) {
        record.problem = 'not an aes128gcm push with a TTL';
        return reply(400);
      }
      try {
        const plaintext = ece.decrypt(Buffer.concat(chunks), {
          version: 'aes128gcm',
          privateKey: target.ecdh,
          authSecret: target.auth,
        });
        target.subscription.received.push(JSON.parse(plaintext.toString('utf8')));
      } catch (err) {
        record.problem = `undecryptable: ${(err as Error).message}`;
        return reply(400);
      }
      reply(201);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert });

  return {
    origin,
    /** An https.Agent that trusts this service's certificate (and only it). */
    agent,
    /** The certificate as a PEM file, for processes this test spawns (`NODE_EXTRA_CA_CERTS`). */
    caFile,
    /** Every request received, in order. */
    requests,
    /** A subscription as a browser would make one: a fresh P-256 key pair and 16-byte auth secret. */
    newSubscription(): TestSubscription {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const urlPath = `/push/${randomUUID()}`;
      const subscription: TestSubscription = {
        endpoint: `${origin}${urlPath}`,
        keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') },
        received: [],
      };
      subscriptions.set(urlPath, { subscription, ecdh, auth });
      return subscription;
    },
    /** What `endpoint` answers from now on (201, the default, delivers). */
    answer(endpoint: string, status: PushAnswer) {
      answers.set(new URL(endpoint).pathname, status);
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PushService = Awaited<ReturnType<typeof startPushService>>;

const MAX_VAPID_LIFETIME_SECONDS = 24 * 3600;

/** The claims of a valid `vapid t=<jwt>, k=<key>` header (RFC 8292 §3), or why it is not valid. */
function verifyVapid(header: string | undefined, origin: string): VapidClaims | string {
  try {
    return checkVapid(header, origin);
  } catch (err) {
    return `malformed: ${(err as Error).message}`;
  }
}

function checkVapid(header: string | undefined, origin: string): VapidClaims | string {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header ?? '');
  if (!match) return 'no vapid Authorization header';
  const [, token = '', k = ''] = match;
  const [head = '', body = '', signature = ''] = token.split('.');
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return 'k is not an uncompressed P-256 point';
  const jwtHeader = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string; typ?: string };
  if (jwtHeader.alg !== 'ES256') return `alg is ${jwtHeader.alg}`;
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) return 'the signature does not verify with k';
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Partial<VapidClaims>;
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) return `aud is ${claims.aud}, not ${origin}`;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + MAX_VAPID_LIFETIME_SECONDS)
    return 'exp is not within the next 24 hours';
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    return 'sub is not a mailto: or https: URL';
  return { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: k };
}
