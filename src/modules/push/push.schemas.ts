import { ECDH } from 'node:crypto';
import { z } from 'zod';
import { CalendarDate, Id, Instant, int64, JS_ARRAY_MAX_LENGTH } from '../../http/field-schemas.js';

/** `push_subscriptions.endpoint` is varchar(2048). */
export const ENDPOINT_MAX_CHARS = 2048;
/** An uncompressed P-256 point: 0x04, then x and y (RFC 8291 §3.1). */
const P256DH_BYTES = 65;
/** The subscription's authentication secret (RFC 8291 §3.2). */
const AUTH_BYTES = 16;

/**
 * Base64url of exactly `bytes` bytes, returned without padding (what browsers send; padding is accepted and dropped).
 * Node's decoder skips characters it does not know, so the alphabet is checked first, and the value must encode back
 * to itself: trailing bits that do not belong to any byte are refused, so one key has one spelling.
 */
function base64urlBytes(bytes: number, problem: string, valid: (decoded: Buffer) => boolean = () => true) {
  return z
    .string()
    .max(4 * Math.ceil(bytes / 3), { abort: true })
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, { message: 'must be base64url (A-Z a-z 0-9 - _)', abort: true })
    .refine(
      (value) => {
        const unpadded = value.replace(/=+$/, '');
        const decoded = Buffer.from(unpadded, 'base64url');
        return decoded.length === bytes && decoded.toString('base64url') === unpadded && valid(decoded);
      },
      { message: problem, abort: true },
    )
    .transform((value) => value.replace(/=+$/, ''));
}

/** On the curve: a point that is not cannot be encrypted to, and would fail every push instead of this request. */
const isP256Point = (point: Buffer) => {
  if (point[0] !== 0x04) return false;
  try {
    ECDH.convertKey(point, 'prime256v1');
    return true;
  } catch {
    return false;
  }
};

/**
 * The push service's URL for this browser (a capability: whoever holds it can push to the device, within VAPID's
 * limits), so it is never shown back in full. Credentials in it would be sent to the push service and are refused.
 */
const Endpoint = z
  .url({ protocol: /^https$/, message: 'must be an https: URL', abort: true })
  .max(ENDPOINT_MAX_CHARS)
  // The URL parser would quietly drop or escape these; the value is stored as sent, so refuse them instead.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point of it
  .regex(/^[^\x00-\x20\x7f]*$/, { message: 'must not contain spaces or control characters' })
  .refine(
    (value) => {
      const url = new URL(value);
      return url.username === '' && url.password === '';
    },
    { message: 'must not hold a user name or password' },
  )
  .meta({ example: 'https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH-example' });

/**
 * What `PushSubscription.toJSON()` gives in the browser, sent as is. `keys` is a record of the browser's keys in the
 * Push API, of which `p256dh` and `auth` are the ones defined: any other key is dropped rather than refused, so a
 * browser that adds one keeps working.
 */
export const RegisterPushSubscriptionBody = z
  .strictObject({
    endpoint: Endpoint,
    expirationTime: int64(0, Number.MAX_SAFE_INTEGER)
      .nullable()
      .optional()
      .meta({ description: 'Sent by `PushSubscription.toJSON()`; accepted and ignored', example: null }),
    keys: z.object({
      p256dh: base64urlBytes(P256DH_BYTES, 'must be an uncompressed P-256 public key of 65 bytes', isP256Point).meta({
        description: "The browser's ECDH public key, base64url",
        example: 'BGx1vFj_X3Nff2hR_Rfm_744NHmLzXKImdhYqFhTg4ooN5-DTeqMBilQkAaeWvjeScakzIFjscP1mmR6AbP-cj4',
      }),
      auth: base64urlBytes(AUTH_BYTES, 'must be 16 bytes').meta({
        description: 'The authentication secret, base64url',
        example: 'BULz1rkMuDyULuKnsvvc2g',
      }),
    }),
  })
  .meta({ id: 'RegisterPushSubscription' });
export type RegisterPushSubscriptionBody = z.infer<typeof RegisterPushSubscriptionBody>;

export const PushSubscriptionParams = z.object({ id: Id });

const EndpointOrigin = z.string().max(ENDPOINT_MAX_CHARS).meta({
  description: "The push service's origin (the endpoint's scheme, host and port); the rest of the URL is not shown",
  example: 'https://fcm.googleapis.com',
});

const RegisteredAt = Instant.meta({ description: 'When this device registered it, or last registered it again' });

export const PushSubscription = z
  .object({ id: Id, endpointOrigin: EndpointOrigin, createdAt: RegisteredAt })
  .meta({ id: 'PushSubscription', description: 'A device that receives your push notifications' });
export type PushSubscription = z.infer<typeof PushSubscription>;

/** Subscriptions one user may hold; registering one more removes the oldest (push.service.ts says why). */
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;

/** The VAPID public key: an uncompressed P-256 point, 65 bytes in base64url without padding. */
const VapidPublicKey = z.string().length(87).meta({
  description: 'The VAPID public key, to pass as `applicationServerKey` to `PushManager.subscribe()`',
  example: 'BM3F8pwKGYjaf-FPDimuJqq38FqOaB33CozvDlGYIovHZFwDOJW6wtx908PAqv0sGZzPWTAIS9uC4h24TkhDShg',
});

export const PushSubscriptionList = z
  .object({ publicKey: VapidPublicKey, data: z.array(PushSubscription).max(MAX_PUSH_SUBSCRIPTIONS_PER_USER) })
  .meta({ id: 'PushSubscriptionList' });
export type PushSubscriptionList = z.infer<typeof PushSubscriptionList>;

/**
 * The `pushSubscriptions` section of the GDPR export: each subscription with its full endpoint, which is the user's
 * own data, but without its keys (`auth` is a secret shared with the browser).
 */
export const PushSubscriptionsExport = z
  .array(
    z.object({
      id: Id,
      endpoint: z.url().max(ENDPOINT_MAX_CHARS),
      endpointOrigin: EndpointOrigin,
      createdAt: RegisteredAt,
    }),
  )
  .max(JS_ARRAY_MAX_LENGTH);

/**
 * What a reminder push carries, encrypted end to end to the browser (aes128gcm), so the title may travel; the
 * service worker shows it. Built by the reminders delivery; declared here beside the subscriptions it goes to.
 */
export const ReminderPushPayload = z.object({
  type: z.literal('reminder'),
  reminderId: Id,
  title: z.string().max(200),
  dueDate: CalendarDate,
});
export type ReminderPushPayload = z.infer<typeof ReminderPushPayload>;
