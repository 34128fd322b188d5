import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeysPrivacySection } from '../../../src/modules/api-keys/api-keys.privacy.js';
import { createAuditLog } from '../../../src/modules/audit/audit.port.js';
import { createAuditLogPrivacySection } from '../../../src/modules/audit/audit.privacy.js';
import { createSessionsPrivacySection } from '../../../src/modules/auth/auth.privacy.js';
import { createSessionState } from '../../../src/modules/auth/session-state.service.js';
import { createErasurePseudonym } from '../../../src/modules/privacy/erasure-pseudonym.js';
import { createIdempotencyPrivacySection } from '../../../src/modules/privacy/idempotency.privacy.js';
import { createPrivacyRegistry, type PersonalDataSection } from '../../../src/modules/privacy/privacy.port.js';
import { createPrivacyService } from '../../../src/modules/privacy/privacy.service.js';
import { createEmailHash } from '../../../src/platform/email-hash.js';
import { createLogger } from '../../../src/platform/logger.js';
import { createPasswordHasher } from '../../../src/platform/password-hash.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { registerUser } from '../../support/auth.js';
import { rowsReferring } from './personal-data.tables.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ctx = { ip: '127.0.0.1', requestId: 'test-request', userAgent: undefined };

/** The real service on the test database, with the identity sections and `extra` (a module's section). */
function serviceWith(extra: PersonalDataSection) {
  const logger = createLogger({ level: 'silent' });
  return createPrivacyService({
    db: t.db,
    auditLog: createAuditLog(),
    sections: createPrivacyRegistry([
      createSessionsPrivacySection({
        auditLog: createAuditLog(),
        emailHash: createEmailHash(t.config.auth.emailHashKey),
      }),
      createApiKeysPrivacySection(),
      createAuditLogPrivacySection(),
      createIdempotencyPrivacySection(),
      extra,
    ]),
    hasher: createPasswordHasher(t.config.auth.bcryptCost),
    sessions: createSessionState({
      db: t.db,
      redis: t.redisGuard,
      keyPrefix: t.config.redis.keyPrefix,
      logger,
      accessTokenTtlSeconds: t.config.auth.accessTokenTtlSeconds,
      now: () => new Date(),
    }),
    pseudonym: createErasurePseudonym(t.config.auth.jwtSecret),
    logger,
    now: () => new Date(),
  });
}

describe('privacy service erasure', () => {
  it('when a section fails before erasure (a vendor call), nothing is erased and the error reaches the caller', async () => {
    const ann = await registerUser(t);
    const before = await rowsReferring(t, ann.id);
    const svc = serviceWith({
      name: 'billing',
      export: async () => null,
      beforeErase: async () => {
        throw new Error('Stripe is unreachable');
      },
      erase: async () => undefined,
    });
    await expect(svc.erase(ann.id, ann.password, ctx)).rejects.toThrow('Stripe is unreachable');
    expect(await rowsReferring(t, ann.id)).toEqual(before);
  });

  it('when a section fails inside the erasure transaction, the sections erased before it are rolled back', async () => {
    const ann = await registerUser(t);
    const before = await rowsReferring(t, ann.id);
    expect(before['refresh_tokens.user_id']).toBe(1);
    let beforeEraseRan = false;
    const svc = serviceWith({
      name: 'banking',
      export: async () => null,
      beforeErase: async () => {
        beforeEraseRan = true;
      },
      erase: async () => {
        throw new Error('cannot erase');
      },
    });
    await expect(svc.erase(ann.id, ann.password, ctx)).rejects.toThrow('cannot erase');
    expect(beforeEraseRan).toBe(true);
    expect(await rowsReferring(t, ann.id)).toEqual(before);
    const { rows } = await t.db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'privacy.erase'`);
    expect(rows[0].n).toBe(0);
  });

  it('when the password is wrong, no section is asked to do anything', async () => {
    const ann = await registerUser(t);
    let called = false;
    const svc = serviceWith({
      name: 'reminders',
      export: async () => null,
      beforeErase: async () => {
        called = true;
      },
      erase: async () => {
        called = true;
      },
    });
    await expect(svc.erase(ann.id, 'not the password at all', ctx)).rejects.toMatchObject({
      status: 403,
      code: 'invalid-password',
    });
    expect(called).toBe(false);
  });
});

describe('privacy registry', () => {
  it('when two sections share a name, refuses the registry (the export would lose one)', () => {
    const section: PersonalDataSection = { name: 'profile', export: async () => null, erase: async () => undefined };
    expect(() => createPrivacyRegistry([section, { ...section }])).toThrow(
      /Two personal-data sections are named profile/,
    );
  });
});
