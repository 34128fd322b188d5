import { ConflictError } from '../../http/errors.js';
import { clientOf, type Queryable } from '../../platform/db-access.js';
import { translate } from '../../platform/db-errors.js';

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

export function findCredentialsByEmail(db: Queryable, email: string) {
  return clientOf(db).user.findUnique({ where: { email }, select: CREDENTIALS });
}

export function findCredentialsById(db: Queryable, id: string) {
  return clientOf(db).user.findUnique({ where: { id }, select: CREDENTIALS });
}

export async function insertUser(db: Queryable, data: { email: string; passwordHash: string; name: string | null }) {
  try {
    return await clientOf(db).user.create({ data, select: CREDENTIALS });
  } catch (err) {
    throw translate(err, {
      unique: () => new ConflictError('email-taken', 'An account with this email already exists'),
    });
  }
}

export async function updatePasswordHash(db: Queryable, userId: string, passwordHash: string, at: Date) {
  await clientOf(db).user.update({ where: { id: userId }, data: { passwordHash, passwordChangedAt: at } });
}

export interface NewRefreshToken {
  userId: string;
  familyId: string;
  tokenHash: string;
  sessionStartedAt: Date;
  expiresAt: Date;
  userAgent?: string | undefined;
  ip?: string | undefined;
}

export function insertRefreshToken(db: Queryable, token: NewRefreshToken) {
  return clientOf(db).refreshToken.create({
    data: { ...token, userAgent: token.userAgent ?? null, ip: token.ip?.slice(0, 64) ?? null },
    select: { id: true },
  });
}

export function findRefreshToken(db: Queryable, tokenHash: string) {
  return clientOf(db).refreshToken.findUnique({
    where: { tokenHash },
    select: {
      id: true,
      userId: true,
      familyId: true,
      sessionStartedAt: true,
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
export async function markSpent(db: Queryable, oldId: string, newId: string, at: Date): Promise<boolean> {
  const { count } = await clientOf(db).refreshToken.updateMany({
    where: { id: oldId, replacedById: null, revokedAt: null },
    data: { replacedById: newId, lastUsedAt: at },
  });
  return count === 1;
}

export async function revokeFamily(db: Queryable, familyId: string, at: Date): Promise<void> {
  await clientOf(db).refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: at } });
}

/** Revokes every live session of a user but `keep`, and answers the session ids it ended. */
export async function revokeUserSessions(db: Queryable, userId: string, at: Date, keep?: string): Promise<string[]> {
  const where = { userId, revokedAt: null, ...(keep ? { familyId: { not: keep } } : {}) };
  const live = await clientOf(db).refreshToken.findMany({ where, select: { familyId: true }, distinct: ['familyId'] });
  await clientOf(db).refreshToken.updateMany({ where, data: { revokedAt: at } });
  return live.map((t) => t.familyId);
}

/**
 * A session is live while its newest token is neither spent, revoked nor expired **and no token of the family was
 * ever revoked**: revocation is final for the whole family. The second rule closes a race: a revocation
 * (`updateMany … revoked_at IS NULL`) running while a refresh inserts the next token does not see that token, which
 * would otherwise stay a live head. Revoked rows sort first, so one row answers both questions.
 */
export async function isSessionLive(db: Queryable, familyId: string, now: Date): Promise<boolean> {
  return (await liveSessionOwner(db, familyId, now)) !== undefined;
}

/** The user of a live session (as `isSessionLive` decides), or undefined when the session is not live. */
export async function liveSessionOwner(db: Queryable, familyId: string, now: Date): Promise<string | undefined> {
  const first = await clientOf(db).refreshToken.findFirst({
    where: { familyId, OR: [{ revokedAt: { not: null } }, { replacedById: null, expiresAt: { gt: now } }] },
    orderBy: { revokedAt: { sort: 'asc', nulls: 'last' } },
    select: { revokedAt: true, userId: true },
  });
  return first !== null && first.revokedAt === null ? first.userId : undefined;
}

export async function sessionOfRefreshToken(db: Queryable, tokenHash: string): Promise<string | undefined> {
  const token = await clientOf(db).refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true } });
  return token?.familyId;
}

/** Every refresh token ever issued to the user, oldest first (the GDPR export); never the token hash. */
export function refreshTokensOf(db: Queryable, userId: string) {
  return clientOf(db).refreshToken.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: {
      id: true,
      familyId: true,
      createdAt: true,
      lastUsedAt: true,
      expiresAt: true,
      revokedAt: true,
      replacedById: true,
      userAgent: true,
      ip: true,
    },
  });
}

export async function deleteRefreshTokensOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).refreshToken.deleteMany({ where: { userId } });
}

/**
 * Deletes the tokens of up to `sessions` whole sessions (token families) that expired, or were revoked over
 * `revokedDays` days ago; answers the rows deleted. Whole families only: a revoked token is what keeps its family
 * ended, so deleting it while a later token of the family remains could bring that session back to life.
 */
export function purgeEndedSessions(db: Queryable, revokedDays: number, sessions: number, now: Date): Promise<number> {
  return clientOf(db).$executeRaw`DELETE FROM refresh_tokens WHERE family_id IN (
    SELECT family_id FROM refresh_tokens GROUP BY family_id
    HAVING max(expires_at) < ${now}::timestamptz
        OR min(revoked_at) < ${now}::timestamptz - make_interval(days => ${revokedDays})
    LIMIT ${sessions})`;
}
