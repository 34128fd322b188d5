import { NotFoundError } from '../../http/errors.js';
import type { RequestContext } from '../../http/request-context.js';
import type { FieldCipher } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import { changedFields, decodeProfile, EMPTY_PROFILE, encodeProfile } from './profiles.codec.js';
import { findProfile, findTimeZone, lockUserForProfile, saveProfile } from './profiles.repo.js';
import { DEFAULT_TIME_ZONE, type Profile, type PutProfileBody } from './profiles.schemas.js';

export type ProfilesService = ReturnType<typeof createProfilesService>;

export function createProfilesService(deps: { db: Db; auditLog: AuditLog; cipher: FieldCipher }) {
  const { db, auditLog, cipher } = deps;

  return {
    /** A profile never saved is the empty profile, not a 404: every client can render it the same way. */
    async get(userId: string): Promise<Profile> {
      const row = await findProfile(db, userId);
      return row ? decodeProfile(cipher, userId, row) : EMPTY_PROFILE;
    },

    /** Full replacement; one audit row naming the fields that changed (never their values), in the same commit. */
    async replace(userId: string, next: PutProfileBody, ctx: RequestContext): Promise<Profile> {
      return db.transaction(async (tx) => {
        if (!(await lockUserForProfile(tx, userId))) {
          throw new NotFoundError('not-found', 'The account no longer exists');
        }
        const previous = await findProfile(tx, userId);
        const { updatedAt: _, ...before } = previous ? decodeProfile(cipher, userId, previous) : EMPTY_PROFILE;
        const saved = await saveProfile(tx, userId, encodeProfile(cipher, userId, next));
        const fields = changedFields(before, next);
        if (fields.length > 0) {
          await auditLog.record(tx, {
            action: 'profile.update',
            userId,
            targetType: 'user_profile',
            targetId: userId,
            fields,
            ip: ctx.ip,
            requestId: ctx.requestId,
          });
        }
        return decodeProfile(cipher, userId, saved);
      });
    },

    /** The IANA zone that decides the user's "today"; UTC until they choose one. */
    async timezoneOf(userId: string): Promise<string> {
      return (await findTimeZone(db, userId)) ?? DEFAULT_TIME_ZONE;
    },
  };
}
