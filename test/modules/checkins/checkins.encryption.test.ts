import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldCipher, fieldContext } from '../../../src/platform/crypto.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser } from '../../support/auth.js';
import { checkinOn } from '../../support/checkins.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const notesOf = async (id: string) =>
  (await t.db.pool.query<{ notes_enc: string }>('SELECT notes_enc FROM user_health_checkins WHERE id = $1', [id]))
    .rows[0]?.notes_enc;

describe('check-in notes at rest', () => {
  it("when one check-in's encrypted notes are copied into another check-in of the same user, that one answers 500 and shows neither note", async () => {
    const user = await registerUser(t);
    const post = (date: string, notes: string) =>
      request(t.app)
        .post('/api/v1/checkins')
        .set(bearer(user.accessToken))
        .send({ ...checkinOn(date), notes });
    const monday = (await post('2024-05-06', 'talked to my bank about the loan')).body;
    const tuesday = (await post('2024-05-07', 'a quiet day')).body;
    await t.db.pool.query('UPDATE user_health_checkins SET notes_enc = $1 WHERE id = $2', [
      await notesOf(monday.id),
      tuesday.id,
    ]);

    const res = await request(t.app).get(`/api/v1/checkins/${tuesday.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(500);
    expect(res.type).toBe('application/problem+json');
    expect(res.text).not.toContain('loan');
    expect(res.text).not.toContain('quiet');
    const failure = t.logs().find((l) => l.reqId === res.body.requestId && l.msg === 'request failed') as {
      err?: { type?: string; message?: string };
    };
    expect(failure?.err).toMatchObject({
      type: 'FieldDecryptionError',
      message: expect.stringContaining('authentication-failed'),
    });
    // The check-in the notes belong to still reads them.
    const own = await request(t.app).get(`/api/v1/checkins/${monday.id}`).set(bearer(user.accessToken));
    expect(own.body.notes).toBe('talked to my bank about the loan');
  });

  it('when notes are in the older form, bound to their owner but not their row, they still decrypt', async () => {
    const user = await registerUser(t);
    const created = (
      await request(t.app).post('/api/v1/checkins').set(bearer(user.accessToken)).send(checkinOn('2024-05-08'))
    ).body;
    const cipher = createFieldCipher(t.config.fieldEncryption);
    const older = cipher.encrypt(
      'written before rows were bound',
      fieldContext('user_health_checkins', 'notes_enc', user.id),
    );
    expect(older.startsWith('v1.')).toBe(true);
    await t.db.pool.query('UPDATE user_health_checkins SET notes_enc = $1 WHERE id = $2', [older, created.id]);

    const res = await request(t.app).get(`/api/v1/checkins/${created.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.notes).toBe('written before rows were bound');
  });

  it('when a check-in is created or its notes change, the notes are stored bound to its row', async () => {
    const user = await registerUser(t);
    const created = (
      await request(t.app)
        .post('/api/v1/checkins')
        .set(bearer(user.accessToken))
        .send({ ...checkinOn('2024-05-09'), notes: 'first' })
    ).body;
    const cipher = createFieldCipher(t.config.fieldEncryption);
    const context = fieldContext('user_health_checkins', 'notes_enc', user.id);
    expect(cipher.decrypt((await notesOf(created.id)) as string, context, created.id)).toBe('first');
    expect((await notesOf(created.id))?.startsWith('v2.')).toBe(true);
    await request(t.app)
      .patch(`/api/v1/checkins/${created.id}`)
      .set(bearer(user.accessToken))
      .send({ notes: 'second' })
      .expect(200);
    expect(cipher.decrypt((await notesOf(created.id)) as string, context, created.id)).toBe('second');
  });
});
