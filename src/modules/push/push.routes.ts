import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  MAX_PUSH_SUBSCRIPTIONS_PER_USER,
  PushSubscription,
  PushSubscriptionList,
  PushSubscriptionParams,
  RegisterPushSubscriptionBody,
} from './push.schemas.js';
import type { PushService } from './push.service.js';

const tag = 'Reminders';

const REGISTER = operation({
  operationId: 'registerPushSubscription',
  tag,
  summary: "Register this browser's Web Push subscription, to receive reminders sent by push",
  description:
    'Send `PushSubscription.toJSON()` as it is, after subscribing with the `publicKey` of the list. An endpoint is ' +
    'one device: registering one that is already registered (to you or to another account) moves it to you with ' +
    `the keys sent, and answers 200. You hold at most ${MAX_PUSH_SUBSCRIPTIONS_PER_USER}: registering one more ` +
    'removes the one registered least recently. The endpoint is never shown back, only its origin.',
  replies: {
    201: json('Registered', PushSubscription),
    200: json('Already registered; now yours, with these keys', PushSubscription),
  },
  problems: ['not-found'],
});
const LIST = operation({
  operationId: 'listPushSubscriptions',
  tag,
  summary: 'Your push subscriptions, newest first, and the VAPID public key to subscribe with',
  replies: { 200: json('The subscriptions and the key', PushSubscriptionList) },
});
const UNREGISTER = operation({
  operationId: 'deletePushSubscription',
  tag,
  summary: 'Stop sending push notifications to a device',
  description: 'Unsubscribe in the browser too (`PushSubscription.unsubscribe()`).',
  replies: { 204: { description: 'Deleted' } },
  problems: ['not-found'],
});

/**
 * Mounted at /users before the users routes, so each route carries its own authentication (no router-wide use()).
 * Sessions only, as for API keys: a subscription is a channel to a device, not data a read-only key should manage
 * or enumerate.
 */
export function pushRoutes(svc: PushService, deps: { csrf: Csrf; idempotent: RequestHandler }): ApiRouter {
  const r = createApiRouter();
  const sessionsOnly = requireAuth({ apiKeys: false });

  const register = validate({ body: RegisterPushSubscriptionBody });
  r.post(
    '/me/push-subscriptions',
    REGISTER,
    sessionsOnly,
    deps.csrf.protect,
    register,
    deps.idempotent,
    async (req, res) => {
      const { created, subscription } = await svc.register(
        principalOf(req).userId,
        register.input(req).body,
        requestContext(req),
      );
      res.status(created ? 201 : 200).json(subscription);
    },
  );

  r.get('/me/push-subscriptions', LIST, sessionsOnly, deps.csrf.protect, async (req, res) => {
    res.json(await svc.list(principalOf(req).userId));
  });

  const unregister = validate({ params: PushSubscriptionParams });
  r.delete('/me/push-subscriptions/:id', UNREGISTER, sessionsOnly, deps.csrf.protect, unregister, async (req, res) => {
    await svc.unregister(principalOf(req).userId, unregister.input(req).params.id, requestContext(req));
    res.status(204).end();
  });

  return r;
}
