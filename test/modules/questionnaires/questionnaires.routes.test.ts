import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuestionnairesPrivacySection } from '../../../src/modules/questionnaires/questionnaires.privacy.js';
import { createFieldCipher } from '../../../src/platform/crypto.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

const BASE = '/api/v1/questionnaires';
const FW = { q1: 4, q2: 3, q3: 2, q4: 4, q5: 2, q6: 3, q7: 2, q8: 4, q9: 1, q10: 2 }; // 73, high
const SECRET_TEXT = 'my landlord raised the rent again';
const MS = { q1: 5, q2: 4, q3: 1, q4: 3, q5: 4, q6: 2, q7: `  ${SECRET_TEXT}  ` };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const submit = (user: SignedInUser, slug: string, answers: Record<string, unknown>) =>
  request(t.app).post(`${BASE}/${slug}/submissions`).set(bearer(user.accessToken)).send({ answers });

async function submitted(user: SignedInUser, slug = 'financial-wellbeing', answers: Record<string, unknown> = FW) {
  const res = await submit(user, slug, answers);
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; submittedAt: string };
}

const rawRow = async (id: string) =>
  (
    await t.db.pool.query<Record<string, unknown>>('SELECT * FROM financial_questionnaire_submissions WHERE id = $1', [
      id,
    ])
  ).rows[0];

describe('GET /api/v1/questionnaires', () => {
  it('when signed in, lists every questionnaire with its version and question count', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).get(BASE).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data).toEqual([
      expect.objectContaining({
        slug: 'financial-wellbeing',
        title: 'Financial well-being',
        version: 1,
        questionCount: 10,
      }),
      expect.objectContaining({ slug: 'money-stress', version: 1, questionCount: 7 }),
    ]);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).get(BASE)).status).toBe(401);
  });
});

describe('GET /api/v1/questionnaires/:slug', () => {
  it('when the questionnaire exists, returns its questions with ids, text and scale labels, and its bands', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).get(`${BASE}/financial-wellbeing`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.questions).toHaveLength(10);
    expect(res.body.questions[0]).toEqual({
      id: 'q1',
      kind: 'scale',
      text: 'I could handle a major unexpected expense.',
      required: true,
      options: [
        { value: 1, label: 'Not at all' },
        { value: 2, label: 'Very little' },
        { value: 3, label: 'Somewhat' },
        { value: 4, label: 'Very well' },
        { value: 5, label: 'Completely' },
      ],
    });
    expect(res.body.bands.map((b: { id: string }) => b.id)).toEqual(['very-low', 'low', 'medium', 'high', 'very-high']);
    expect(res.body.scoring).toMatch(/not the official CFPB score/);
    expect(res.text).not.toContain('"reverse"');
  });

  it('when the questionnaire has a free-text question, describes it as optional with its maximum length', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).get(`${BASE}/money-stress`).set(bearer(user.accessToken));
    expect(res.body.questions.at(-1)).toEqual(
      expect.objectContaining({ id: 'q7', kind: 'text', required: false, maxLength: 1000 }),
    );
  });

  it('when the slug is unknown, answers 404; when it is malformed, 400', async () => {
    const user = await registerUser(t);
    const unknown = await request(t.app).get(`${BASE}/no-such-thing`).set(bearer(user.accessToken));
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('application/problem+json');
    const malformed = await request(t.app).get(`${BASE}/Financial_Wellbeing`).set(bearer(user.accessToken));
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('params.slug');
  });
});

describe('POST /api/v1/questionnaires/:slug/submissions', () => {
  it('when the answers are complete and valid, answers 201 with the score, band and recommendations', async () => {
    const user = await registerUser(t);
    const res = await submit(user, 'financial-wellbeing', FW);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      questionnaire: 'financial-wellbeing',
      definitionVersion: 1,
      score: 73,
      band: 'high',
      recommendations: expect.arrayContaining([expect.stringMatching(/emergency fund/)]),
      submittedAt: expect.any(String),
    });
    const row = await t.db.prisma.financialQuestionnaireSubmission.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row).toEqual(
      expect.objectContaining({ userId: user.id, questionnaireSlug: 'financial-wellbeing', score: 73, band: 'high' }),
    );
  });

  it('when stored, the answers (free text included) are ciphertext bound to the user, and nowhere in clear', async () => {
    const user = await registerUser(t);
    const { id } = await submitted(user, 'money-stress', MS);
    const row = await rawRow(id);
    const enc = String(row?.answers_enc);
    expect(enc).toMatch(/^v2\.t1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(enc).not.toContain('landlord');
    expect(JSON.stringify(row)).not.toContain('landlord');
    const { rows } = await t.db.pool.query('SELECT 1 FROM audit_log WHERE fields::text LIKE $1 OR request_id LIKE $1', [
      '%landlord%',
    ]);
    expect(rows).toHaveLength(0);
  });

  it('when the answers break the definition, answers 422 listing each problem and stores nothing', async () => {
    const user = await registerUser(t);
    const res = await submit(user, 'financial-wellbeing', {
      ...FW,
      q2: undefined,
      q3: 0,
      q5: 6,
      q6: 2.5,
      q7: '3',
      q11: 4,
    });
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/\/validation-failed$/);
    expect(res.body.errors).toEqual([
      { path: 'body.answers.q2', message: 'is required' },
      { path: 'body.answers.q3', message: 'must be a whole number from 1 to 5' },
      { path: 'body.answers.q5', message: 'must be a whole number from 1 to 5' },
      { path: 'body.answers.q6', message: 'must be a whole number from 1 to 5' },
      { path: 'body.answers.q7', message: 'must be a whole number from 1 to 5' },
      { path: 'body.answers.q11', message: 'is not a question of this questionnaire' },
    ]);
    expect(await t.db.prisma.financialQuestionnaireSubmission.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when the free-text answer is too long or not text, answers 422 naming it', async () => {
    const user = await registerUser(t);
    for (const q7 of ['x'.repeat(1001), 42]) {
      const res = await submit(user, 'money-stress', { ...MS, q7 });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.answers.q7']);
    }
  });

  it('when the body is not {answers: {...}}, answers 422', async () => {
    const user = await registerUser(t);
    for (const body of [{}, { answers: [1, 2, 3] }, { answers: 'all 5' }, { answers: FW, extra: true }]) {
      const res = await request(t.app)
        .post(`${BASE}/financial-wellbeing/submissions`)
        .set(bearer(user.accessToken))
        .send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect(await t.db.prisma.financialQuestionnaireSubmission.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when the questionnaire does not exist, answers 404', async () => {
    const user = await registerUser(t);
    const res = await submit(user, 'no-such-thing', FW);
    expect(res.status).toBe(404);
  });

  it('when retried with the same Idempotency-Key, replays the first answer and stores one submission', async () => {
    const user = await registerUser(t);
    const send = (answers: Record<string, unknown>) =>
      request(t.app)
        .post(`${BASE}/financial-wellbeing/submissions`)
        .set(bearer(user.accessToken))
        .set('Idempotency-Key', 'wellbeing-1')
        .send({ answers });
    const first = await send(FW);
    const again = await send(FW);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await send({ ...FW, q1: 1 });
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/\/idempotency-key-reused$/);
    expect(await t.db.prisma.financialQuestionnaireSubmission.count({ where: { userId: user.id } })).toBe(1);
  });

  it('when submitted, records a questionnaire.submit audit entry naming the field, never the answers', async () => {
    const user = await registerUser(t);
    const { id } = await submitted(user, 'money-stress', MS);
    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'questionnaire.submit' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual(
      expect.objectContaining({ targetType: 'questionnaire_submission', targetId: id, fields: ['answers'] }),
    );
    expect(JSON.stringify(rows)).not.toContain('landlord');
  });

  it('when authenticated with an API key, answers 403 (keys are read-only)', async () => {
    const user = await registerUser(t);
    const key = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'read', password: user.password });
    const res = await request(t.app)
      .post(`${BASE}/financial-wellbeing/submissions`)
      .set(bearer(key.body.key))
      .send({ answers: FW });
    expect(res.status).toBe(403);
    const list = await request(t.app).get(`${BASE}/submissions`).set(bearer(key.body.key));
    expect(list.status).toBe(200);
  });
});

describe('GET /api/v1/questionnaires/submissions', () => {
  it('when the user has submissions, lists only theirs, newest first, without answers', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const a = await submitted(user, 'financial-wellbeing');
    const b = await submitted(user, 'money-stress', MS);
    await submitted(other);
    const res = await request(t.app).get(`${BASE}/submissions`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual([b.id, a.id]);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data[0]).not.toHaveProperty('answers');
    expect(res.text).not.toContain('landlord');
  });

  it('when filtered by questionnaire, lists only that one; an unknown questionnaire is 422', async () => {
    const user = await registerUser(t);
    await submitted(user, 'financial-wellbeing');
    const ms = await submitted(user, 'money-stress', MS);
    const res = await request(t.app)
      .get(`${BASE}/submissions?questionnaire=money-stress`)
      .set(bearer(user.accessToken));
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual([ms.id]);
    const bad = await request(t.app).get(`${BASE}/submissions?questionnaire=nope`).set(bearer(user.accessToken));
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe('query.questionnaire');
  });

  it('when many rows share one instant, pages through all of them once each, in a stable order', async () => {
    const user = await registerUser(t);
    const at = new Date('2026-11-20T10:00:00.000Z');
    await t.db.prisma.financialQuestionnaireSubmission.createMany({
      data: Array.from({ length: 7 }, (_, i) => ({
        userId: user.id,
        questionnaireSlug: 'financial-wellbeing',
        definitionVersion: 1,
        answersEnc: 'v1.t1.unused.unused',
        score: 50,
        band: 'medium',
        recommendations: [],
        submittedAt: i < 5 ? at : new Date(at.getTime() + i * 1000),
      })),
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await request(t.app)
        .get(`${BASE}/submissions`)
        .query({ limit: 3, ...(cursor ? { cursor } : {}) })
        .set(bearer(user.accessToken));
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((s: { id: string }) => s.id));
      cursor = res.body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    const all = await request(t.app).get(`${BASE}/submissions?limit=100`).set(bearer(user.accessToken));
    expect(pages).toBe(3);
    expect(seen).toEqual(all.body.data.map((s: { id: string }) => s.id));
    expect(new Set(seen).size).toBe(7);
  });

  it('when the limit is out of range or the cursor tampered with, answers 422 or 400', async () => {
    const user = await registerUser(t);
    for (const limit of ['101', '0', 'ten']) {
      const res = await request(t.app).get(`${BASE}/submissions`).query({ limit }).set(bearer(user.accessToken));
      expect(res.status, limit).toBe(422);
    }
    await submitted(user);
    await submitted(user);
    const page = await request(t.app).get(`${BASE}/submissions?limit=1`).set(bearer(user.accessToken));
    const cursor = page.body.nextCursor as string;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    for (const c of [tampered, 'junk', `${cursor}.x`]) {
      const res = await request(t.app).get(`${BASE}/submissions`).query({ cursor: c }).set(bearer(user.accessToken));
      expect(res.status, c).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-cursor$/);
    }
  });
});

describe('GET /api/v1/questionnaires/submissions/:id', () => {
  it('when the submission is yours, returns it with the answers decrypted as stored', async () => {
    const user = await registerUser(t);
    const { id } = await submitted(user, 'money-stress', MS);
    const res = await request(t.app).get(`${BASE}/submissions/${id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({
        id,
        questionnaire: 'money-stress',
        score: 79, // 4+3+4+2+3+3 = 19 of 24 points (q3 and q6 reversed)
        band: 'severe',
        answers: { ...MS, q7: SECRET_TEXT },
      }),
    );
  });

  it("when the id is another user's or unknown, answers 404; when malformed, 400", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { id } = await submitted(other);
    for (const target of [id, randomUUID()]) {
      const res = await request(t.app).get(`${BASE}/submissions/${target}`).set(bearer(user.accessToken));
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('q1');
    }
    const malformed = await request(t.app).get(`${BASE}/submissions/not-a-uuid`).set(bearer(user.accessToken));
    expect(malformed.status).toBe(400);
  });

  it("when the stored answers were copied from another user's row, answers 500 rather than their answers", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const mine = await submitted(user);
    const theirs = await submitted(other, 'money-stress', MS);
    await t.db.pool.query(
      `UPDATE financial_questionnaire_submissions SET answers_enc =
         (SELECT answers_enc FROM financial_questionnaire_submissions WHERE id = $2) WHERE id = $1`,
      [mine.id, theirs.id],
    );
    const res = await request(t.app).get(`${BASE}/submissions/${mine.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('landlord');
    expect(t.rawLogs()).toContain('FieldDecryptionError');
  });

  it("when the stored answers were copied from another submission of the same user, answers 500 rather than that submission's answers", async () => {
    const user = await registerUser(t);
    const first = await submitted(user, 'money-stress', MS);
    const second = await submitted(user, 'money-stress', { ...MS, q7: 'nothing to add' });
    await t.db.pool.query(
      `UPDATE financial_questionnaire_submissions SET answers_enc =
         (SELECT answers_enc FROM financial_questionnaire_submissions WHERE id = $2) WHERE id = $1`,
      [second.id, first.id],
    );
    const res = await request(t.app).get(`${BASE}/submissions/${second.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('landlord');
    const own = await request(t.app).get(`${BASE}/submissions/${first.id}`).set(bearer(user.accessToken));
    expect(own.body.answers.q7).toBe(SECRET_TEXT);
  });
});

describe('questionnaires privacy section', () => {
  it('when exporting, returns every submission of the user with decrypted answers; erasing removes only theirs', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const first = await submitted(user);
    const second = await submitted(user, 'money-stress', MS);
    await submitted(other);
    const section = createQuestionnairesPrivacySection({ cipher: createFieldCipher(t.config.fieldEncryption) });
    expect(section.name).toBe('questionnaireSubmissions');
    const exported = await section.export(t.db, user.id);
    expect(exported).toEqual([
      expect.objectContaining({ id: first.id, answers: FW, score: 73 }),
      expect.objectContaining({ id: second.id, answers: { ...MS, q7: SECRET_TEXT } }),
    ]);
    expect(JSON.stringify(exported)).not.toContain('answersEnc');
    await t.db.transaction((tx) => section.erase(tx, user.id));
    expect(await t.db.prisma.financialQuestionnaireSubmission.count({ where: { userId: user.id } })).toBe(0);
    expect(await t.db.prisma.financialQuestionnaireSubmission.count({ where: { userId: other.id } })).toBe(1);
  });
});
