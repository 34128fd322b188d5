import { createECDH, ECDH } from 'node:crypto';
import type { Agent } from 'node:https';
import webpush from 'web-push';

/** A browser's subscription as sending needs it: the push service's URL and the keys to encrypt to. */
export interface PushSubscriptionKeys {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushSendOptions {
  /** How long the push service keeps the message for an offline device (RFC 8030 §5.2); 0: now or never. */
  ttlSeconds: number;
  /** RFC 8030 §5.3: how much battery the device may spend on it. Default `normal`. */
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
}

export interface PushSenderOptions {
  /** VAPID keys (RFC 8292), base64url: the public key is the one browsers subscribed with. */
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:`: whom the push service may contact about this sender. */
  subject: string;
  /** Lets the tests trust their local push service's certificate; production uses the default trust store. */
  agent?: Agent;
  /** Socket inactivity, connecting included, before a send gives up. Default 10 s. */
  timeoutMs?: number;
}

/**
 * The push service refused the message for good: sending it again changes nothing (a malformed request, a payload
 * too large, credentials it does not accept). `statusCode` is its answer, undefined when refused before sending.
 */
export class PushRefusedError extends Error {
  constructor(
    readonly statusCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PushRefusedError';
  }
}

/** The subscription no longer exists (404, 410): the caller deletes it; no push will reach it again. */
export class PushGoneError extends PushRefusedError {
  constructor(statusCode: number) {
    super(statusCode, `the push service answered ${statusCode}: the subscription is gone`);
    this.name = 'PushGoneError';
  }
}

/**
 * The most a push may carry: push services must accept 4096 bytes of body (RFC 8030 §7.2), of which aes128gcm's
 * header takes 86, and its one record's padding delimiter and tag 17 (RFC 8188, RFC 8291 §4).
 */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 17;

const DEFAULT_TIMEOUT_MS = 10_000;
/** The push service is busy or failing: worth another attempt later. */
const RETRYABLE = new Set([408, 425, 429]);

export type PushSender = ReturnType<typeof createPushSender>;

/**
 * Sends Web Push messages (RFC 8030) with the `web-push` package: the payload is encrypted to the subscription's keys
 * (aes128gcm, RFC 8291), so only the browser reads it, and each request carries a VAPID signature (RFC 8292).
 *
 * Errors say what to do next: `PushGoneError` (delete the subscription), `PushRefusedError` (do not retry), anything
 * else (retry later: a 429, a 5xx, a timeout, the network). None of them carries the endpoint, a capability URL
 * that must not reach logs, nor the push service's answer body.
 */
export function createPushSender(options: PushSenderOptions) {
  const vapidDetails = { subject: options.subject, publicKey: options.publicKey, privateKey: options.privateKey };
  // Signing once now checks the keys and the subject (web-push refuses a bad one only when sending): a wrong
  // setting stops the process that starts with it, rather than failing every reminder.
  webpush.getVapidHeaders(
    'https://push.example',
    vapidDetails.subject,
    vapidDetails.publicKey,
    vapidDetails.privateKey,
    'aes128gcm',
  );
  // Nor would web-push notice a public key that is not the private key's: every push would then be refused (403).
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(options.privateKey, 'base64url'));
  if (ecdh.getPublicKey('base64url') !== options.publicKey) {
    throw new Error("createPushSender(): the VAPID public key is not the private key's");
  }
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return {
    publicKey: options.publicKey,

    /** Resolves once the push service accepted the message (2xx); it delivers it when the device is reachable. */
    async send(subscription: PushSubscriptionKeys, payload: object, send: PushSendOptions): Promise<void> {
      const body = JSON.stringify(payload);
      const bytes = Buffer.byteLength(body);
      if (bytes > MAX_PAYLOAD_BYTES) {
        throw new PushRefusedError(
          undefined,
          `the payload is ${bytes} bytes; a push carries at most ${MAX_PAYLOAD_BYTES}`,
        );
      }
      const refusal = malformed(subscription);
      if (refusal) throw new PushRefusedError(undefined, refusal);
      try {
        await webpush.sendNotification(subscription, body, {
          vapidDetails,
          TTL: send.ttlSeconds,
          urgency: send.urgency ?? 'normal',
          contentEncoding: 'aes128gcm',
          timeout,
          ...(options.agent ? { agent: options.agent } : {}),
        });
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

/** What would make web-push throw before sending, said without the endpoint. */
function malformed({ endpoint, keys }: PushSubscriptionKeys): string | undefined {
  if (!URL.canParse(endpoint) || new URL(endpoint).protocol !== 'https:') return 'the endpoint is not an https: URL';
  const p256dh = Buffer.from(keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || !onCurve(p256dh)) return 'the p256dh key is not an uncompressed P-256 point';
  if (Buffer.from(keys.auth, 'base64url').length !== 16) return 'the auth secret is not 16 bytes';
  return undefined;
}

function onCurve(point: Buffer): boolean {
  try {
    ECDH.convertKey(point, 'prime256v1');
    return point[0] === 0x04;
  } catch {
    return false;
  }
}

function classify(err: unknown): Error {
  if (err instanceof webpush.WebPushError) {
    const status = err.statusCode;
    if (status === 404 || status === 410) return new PushGoneError(status);
    if (status >= 500 || RETRYABLE.has(status)) return new Error(`the push service answered ${status}`);
    return new PushRefusedError(status, `the push service refused the message (${status})`);
  }
  // A timeout, a refused connection, a TLS failure: Node's message names the host at most, never the path.
  const { message, code } = err as { message?: unknown; code?: unknown };
  const what = typeof code === 'string' ? code : typeof message === 'string' ? message : 'unknown error';
  return new Error(`could not reach the push service: ${what}`);
}
