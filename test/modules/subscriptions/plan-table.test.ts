import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REMINDER_CAP } from '../../../src/modules/reminders/reminders.service.js';
import { FEATURES, type Feature, PLANS } from '../../../src/modules/subscriptions/subscriptions.plans.js';
import { ROOT, startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser } from '../../support/auth.js';

/** docs/billing.md's feature table: `| \`feature\` | what | ✓ | ✓ | ✓ |`, one column per plan. */
function documentedTable(): Map<string, string[]> {
  const doc = readFileSync(path.join(ROOT, 'docs/billing.md'), 'utf8');
  const header = /^\| feature \| what it unlocks \|(.*)\|$/m.exec(doc);
  if (!header) throw new Error('docs/billing.md has no feature table');
  const plans = (header[1] ?? '').split('|').map((c) => c.trim().replaceAll('`', ''));
  const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| [^|]+ \|((?: *✓? *\|){3})$/gm)];
  return new Map(
    rows.map((m) => {
      const cells = (m[2] ?? '').split('|').slice(0, plans.length);
      return [m[1] as string, plans.filter((_, i) => cells[i]?.trim() === '✓')];
    }),
  );
}

describe('the plan table in docs/billing.md', () => {
  it('when compared with subscriptions.plans.ts, lists the same features in the same plans', () => {
    const documented = documentedTable();
    expect([...documented.keys()].sort()).toEqual(Object.keys(FEATURES).sort());
    for (const feature of Object.keys(FEATURES) as Feature[]) {
      const inCode = PLANS.filter((p) => p.features.includes(feature)).map((p) => p.id);
      expect(documented.get(feature), feature).toEqual(inCode);
    }
  });

  it('when read, sells nothing the API cannot enforce and not the data export, which is everyone’s right', () => {
    expect(Object.keys(FEATURES)).not.toContain('data-export');
    expect(Object.keys(FEATURES)).not.toContain('priority-support');
  });
});

describe('the reminder cap', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const create = (token: string, i: number) =>
    request(t.app)
      .post('/api/v1/reminders')
      .set(bearer(token))
      .send({ title: `Bill ${i}`, dueDate: '2030-01-15', recurrence: 'monthly', channel: 'email' });

  it(`when an account without unlimited-reminders holds ${ACTIVE_REMINDER_CAP} active reminders, the next is 403 plan-required`, async () => {
    const user = await registerUser(t);
    for (let i = 0; i < ACTIVE_REMINDER_CAP; i += 1) expect((await create(user.accessToken, i)).status).toBe(201);
    const res = await create(user.accessToken, ACTIVE_REMINDER_CAP);
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/plan-required$/);
    expect(res.body.detail).toContain('mid_tier');
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: user.id } })).toBe(ACTIVE_REMINDER_CAP);
  });

  it('when the account is on mid_tier (unlimited-reminders), creates past the cap', async () => {
    const user = await registerUser(t);
    await t.db.pool.query(
      `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status)
       VALUES ($1, $2, $3, 'mid_tier', 'active')`,
      [user.id, `cus_cap${user.id.slice(0, 8)}`, `sub_cap${user.id.slice(0, 8)}`],
    );
    for (let i = 0; i <= ACTIVE_REMINDER_CAP; i += 1) expect((await create(user.accessToken, i)).status).toBe(201);
  });
});
