import { ConflictError } from '../../http/errors.js';
import { type DbClient, isUniqueViolation } from '../../platform/db.js';

/** What authentication reads of an account; the password hash never leaves the auth module. */
const CREDENTIALS = {
  id: true,
  email: true,
  name: true,
  role: true,
  status: true,
  passwordHash: true,
  createdAt: true,
} as const;

export function findCredentialsByEmail(db: DbClient, email: string) {
  return db.user.findUnique({ where: { email }, select: CREDENTIALS });
}

export function findCredentialsById(db: DbClient, id: string) {
  return db.user.findUnique({ where: { id }, select: CREDENTIALS });
}

export async function insertUser(db: DbClient, data: { email: string; passwordHash: string; name: string | null }) {
  try {
    return await db.user.create({ data, select: CREDENTIALS });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError('email-taken', 'An account with this email already exists');
    throw err;
  }
}

export async function updatePasswordHash(db: DbClient, userId: string, passwordHash: string, at: Date) {
  await db.user.update({ where: { id: userId }, data: { passwordHash, passwordChangedAt: at } });
}

export interface NewRefreshToken {
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
  userAgent?: string | undefined;
  ip?: string | undefined;
}

export function insertRefreshToken(db: DbClient, token: NewRefreshToken) {
  return db.refreshToken.create({
    data: { ...token, userAgent: token.userAgent ?? null, ip: token.ip?.slice(0, 64) ?? null },
    select: { id: true },
  });
}

export function findRefreshToken(db: DbClient, tokenHash: string) {
  return db.refreshToken.findUnique({
    where: { tokenHash },
    select: {
      id: true,
      userId: true,
      familyId: true,
      expiresAt: true,
      revokedAt: true,
      replacedById: true,
      user: { select: { role: true, status: true } },
    },
  });
}

/**
 * Marks `oldId` as replaced by `newId`, only if nobody spent or revoked it in the meantime: of two concurrent
 * refreshes with one token, exactly one wins; the other sees `false` and is treated as a replay.
 */
export async function markSpent(db: DbClient, oldId: string, newId: string, at: Date): Promise<boolean> {
  const { count } = await db.refreshToken.updateMany({
    where: { id: oldId, replacedById: null, revokedAt: null },
    data: { replacedById: newId, lastUsedAt: at },
  });
  return count === 1;
}

export async function revokeFamily(db: DbClient, familyId: string, at: Date): Promise<void> {
  await db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: at } });
}

/** Revokes every live session of a user but `keep`, and answers the session ids it ended. */
export async function revokeUserSessions(db: DbClient, userId: string, at: Date, keep?: string): Promise<string[]> {
  const where = { userId, revokedAt: null, ...(keep ? { familyId: { not: keep } } : {}) };
  const live = await db.refreshToken.findMany({ where, select: { familyId: true }, distinct: ['familyId'] });
  await db.refreshToken.updateMany({ where, data: { revokedAt: at } });
  return live.map((t) => t.familyId);
}

/**
 * A session is live while its newest token is neither spent, revoked nor expired **and no token of the family was
 * ever revoked**: revocation is final for the whole family. The second rule closes a race: a revocation
 * (`updateMany … revoked_at IS NULL`) running while a refresh inserts the next token does not see that token, which
 * would otherwise stay a live head. Revoked rows sort first, so one row answers both questions.
 */
export async function isSessionLive(db: DbClient, familyId: string, now: Date): Promise<boolean> {
  const first = await db.refreshToken.findFirst({
    where: { familyId, OR: [{ revokedAt: { not: null } }, { replacedById: null, expiresAt: { gt: now } }] },
    orderBy: { revokedAt: { sort: 'asc', nulls: 'last' } },
    select: { revokedAt: true },
  });
  return first !== null && first.revokedAt === null;
}

export async function sessionOfRefreshToken(db: DbClient, tokenHash: string): Promise<string | undefined> {
  const token = await db.refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true } });
  return token?.familyId;
}
