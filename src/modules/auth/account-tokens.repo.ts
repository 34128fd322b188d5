import { clientOf, type Queryable } from '../../platform/db-access.js';

/** What an account token is good for; each purpose has its own lifetime (account-tokens.ts). */
export type AccountTokenPurpose = 'password_reset' | 'email_verification';

export function insertAccountToken(
  db: Queryable,
  token: { userId: string; purpose: AccountTokenPurpose; tokenHash: string; expiresAt: Date },
) {
  return clientOf(db).accountToken.create({ data: token, select: { id: true } });
}

/**
 * The account a token of `purpose` would act on while it is unused and unexpired, without spending it (so a refused
 * new password leaves the link usable). Spending is `consumeAccountToken`, which checks all of it again.
 */
export async function peekAccountToken(db: Queryable, tokenHash: string, purpose: AccountTokenPurpose, now: Date) {
  const token = await clientOf(db).accountToken.findFirst({
    where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: now } },
    select: { user: { select: { id: true, email: true, name: true, status: true } } },
  });
  return token?.user;
}

/**
 * Spends a token in one statement (`UPDATE … WHERE used_at IS NULL AND expires_at > $now RETURNING`): of two
 * concurrent uses, the second waits for the first's row lock, then finds `used_at` set and matches nothing, so
 * exactly one succeeds. Answers the token's user, or undefined when it is unknown, of another purpose, used or expired.
 */
export async function consumeAccountToken(
  db: Queryable,
  tokenHash: string,
  purpose: AccountTokenPurpose,
  now: Date,
): Promise<string | undefined> {
  const rows = await clientOf(db).accountToken.updateManyAndReturn({
    where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
    select: { userId: true },
  });
  return rows[0]?.userId;
}

/** Spends every other live token of `purpose` of the user: one reset retires the links mailed before it. */
export async function retireAccountTokens(db: Queryable, userId: string, purpose: AccountTokenPurpose, now: Date) {
  await clientOf(db).accountToken.updateMany({
    where: { userId, purpose, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
}

/** The account's tokens, oldest first (the GDPR export); never the hash. */
export function accountTokensOf(db: Queryable, userId: string) {
  return clientOf(db).accountToken.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, purpose: true, createdAt: true, expiresAt: true, usedAt: true },
  });
}

export async function deleteAccountTokensOf(db: Queryable, userId: string): Promise<void> {
  await clientOf(db).accountToken.deleteMany({ where: { userId } });
}

/** Deletes up to `batch` expired tokens (used or not: past its expiry a token can do nothing); answers how many. */
export function purgeExpiredAccountTokens(db: Queryable, batch: number, now: Date): Promise<number> {
  return clientOf(db).$executeRaw`DELETE FROM account_tokens WHERE id IN (
    SELECT id FROM account_tokens WHERE expires_at < ${now}::timestamptz LIMIT ${batch})`;
}

/** The address and name mail about the account goes to; undefined when the account is gone. */
export function mailRecipient(db: Queryable, userId: string) {
  return clientOf(db).user.findUnique({
    where: { id: userId },
    select: { email: true, name: true, status: true, emailVerifiedAt: true },
  });
}

/** Records that the owner proved the address (the first time only: a later proof keeps the first date). */
export async function markEmailVerified(db: Queryable, userId: string, at: Date): Promise<void> {
  await clientOf(db).user.updateMany({ where: { id: userId, emailVerifiedAt: null }, data: { emailVerifiedAt: at } });
}

/** Whether the account's address is verified; false for an account that does not exist. */
export async function isEmailVerified(db: Queryable, userId: string): Promise<boolean> {
  const row = await clientOf(db).user.findUnique({ where: { id: userId }, select: { emailVerifiedAt: true } });
  return row?.emailVerifiedAt != null;
}
