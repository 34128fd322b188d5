import type { Queryable } from '../../platform/db-handle.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { deleteSubscriptionsOf, subscriptionsOf } from './push.repo.js';

/**
 * Web Push subscriptions with their full endpoint: the API never shows it back (whoever holds it can push to the
 * device), but an export is the user's own copy of their data. Never the keys: `auth` is a secret shared with the
 * browser, of no use outside it.
 */
export function createPushPrivacySection(): PersonalDataSection {
  return {
    name: 'pushSubscriptions',
    async export(db: Queryable, userId: string) {
      return (await subscriptionsOf(db, userId)).map((r) => ({
        id: r.id,
        endpoint: r.endpoint,
        endpointOrigin: new URL(r.endpoint).origin,
        createdAt: r.createdAt.toISOString(),
      }));
    },
    erase: deleteSubscriptionsOf,
  };
}
