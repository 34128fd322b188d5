import { randomUUID } from 'node:crypto';
import { NotFoundError, UnprocessableError } from '../../http/errors.js';
import type { Cursors } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import type { FieldCipher } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import { openAnswers, sealAnswers } from './questionnaires.answers.js';
import type { QuestionnaireCatalog } from './questionnaires.catalog.js';
import { findSubmission, insertSubmission, listSubmissions } from './questionnaires.repo.js';
import {
  type QuestionnaireView,
  type Submission,
  type SubmissionDetail,
  type SubmissionListQuery,
  type SubmitBody,
  toQuestionnaireView,
  toSubmission,
} from './questionnaires.schemas.js';
import { checkAnswers, score } from './questionnaires.scoring.js';

export interface QuestionnairesServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  cipher: FieldCipher;
  cursors: Cursors;
  catalog: QuestionnaireCatalog;
}

export type QuestionnairesService = ReturnType<typeof createQuestionnairesService>;

export function createQuestionnairesService(deps: QuestionnairesServiceDeps) {
  const { db, auditLog, cipher, cursors, catalog } = deps;

  function definition(slug: string) {
    const def = catalog.find(slug);
    if (!def) throw new NotFoundError('not-found', 'No such questionnaire');
    return def;
  }

  return {
    list() {
      return {
        data: catalog.all().map((d) => ({
          slug: d.slug,
          title: d.title,
          version: d.version,
          description: d.description,
          questionCount: d.questions.length,
        })),
        nextCursor: null,
      };
    },

    get(slug: string): QuestionnaireView {
      return toQuestionnaireView(definition(slug));
    },

    async submit(userId: string, slug: string, input: SubmitBody, ctx: RequestContext): Promise<Submission> {
      const def = definition(slug);
      const checked = checkAnswers(def, input.answers);
      if (!checked.ok) throw new UnprocessableError('validation-failed', 'Some answers are invalid', checked.errors);
      const result = score(def, checked.answers);
      // The id is made here, not by the database: the answers are encrypted bound to it before the row exists.
      const id = randomUUID();
      const row = await db.transaction(async (tx) => {
        const created = await insertSubmission(tx, {
          id,
          userId,
          questionnaireSlug: def.slug,
          definitionVersion: def.version,
          answersEnc: sealAnswers(cipher, userId, id, checked.answers),
          score: result.score,
          band: result.band.id,
          recommendations: [...result.band.recommendations],
        });
        await auditLog.record(tx, {
          action: 'questionnaire.submit',
          userId,
          targetType: 'questionnaire_submission',
          targetId: created.id,
          fields: ['answers'],
          ip: ctx.ip,
          requestId: ctx.requestId,
        });
        return created;
      });
      return toSubmission(row);
    },

    async submissions(userId: string, query: SubmissionListQuery) {
      const after = cursors.decodeCreatedAt(query.cursor);
      const rows = await listSubmissions(db, userId, {
        ...(query.questionnaire ? { slug: query.questionnaire } : {}),
        limit: query.limit,
        ...(after ? { after: { submittedAt: after.createdAt, id: after.id } } : {}),
      });
      return cursors.page(rows, query.limit, (r) => ({ key: r.submittedAt.toISOString(), id: r.id }), toSubmission);
    },

    async submission(userId: string, id: string): Promise<SubmissionDetail> {
      const row = await findSubmission(db, userId, id);
      if (!row) throw new NotFoundError('not-found', 'No such submission');
      return { ...toSubmission(row), answers: openAnswers(cipher, userId, row.id, row.answersEnc) };
    },
  };
}
