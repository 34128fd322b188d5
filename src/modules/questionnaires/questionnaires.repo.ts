import type { Prisma } from '../../generated/prisma/client.js';
import { clientOf, type Queryable } from '../../platform/db-access.js';

export interface SubmissionRow {
  id: string;
  questionnaireSlug: string;
  definitionVersion: number;
  score: number;
  band: string;
  recommendations: Prisma.JsonValue;
  submittedAt: Date;
}

const LISTED = {
  id: true,
  questionnaireSlug: true,
  definitionVersion: true,
  score: true,
  band: true,
  recommendations: true,
  submittedAt: true,
} as const;

export interface NewSubmission {
  /** Made by the service: the answers are bound to it. */
  id: string;
  userId: string;
  questionnaireSlug: string;
  definitionVersion: number;
  answersEnc: string;
  score: number;
  band: string;
  recommendations: string[];
}

export function insertSubmission(db: Queryable, data: NewSubmission): Promise<SubmissionRow> {
  return clientOf(db).financialQuestionnaireSubmission.create({ data, select: LISTED });
}

/** Newest first, keyset-paginated on (submitted_at, id), served by the (user_id, submitted_at) index. */
export function listSubmissions(
  db: Queryable,
  userId: string,
  query: { slug?: string; limit: number; after?: { submittedAt: Date; id: string } },
): Promise<SubmissionRow[]> {
  const { after } = query;
  return clientOf(db).financialQuestionnaireSubmission.findMany({
    where: {
      userId,
      ...(query.slug ? { questionnaireSlug: query.slug } : {}),
      ...(after
        ? {
            OR: [{ submittedAt: { lt: after.submittedAt } }, { submittedAt: after.submittedAt, id: { lt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ submittedAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    select: LISTED,
  });
}

export function findSubmission(db: Queryable, userId: string, id: string) {
  return clientOf(db).financialQuestionnaireSubmission.findFirst({
    where: { id, userId },
    select: { ...LISTED, answersEnc: true },
  });
}

export function allSubmissions(db: Queryable, userId: string) {
  return clientOf(db).financialQuestionnaireSubmission.findMany({
    where: { userId },
    orderBy: [{ submittedAt: 'asc' }, { id: 'asc' }],
    select: { ...LISTED, answersEnc: true },
  });
}

export async function deleteSubmissions(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).financialQuestionnaireSubmission.deleteMany({ where: { userId } });
}
