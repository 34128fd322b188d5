import { NotFoundError } from '../../http/errors.js';
import type { Db } from '../../platform/db-handle.js';
import { findUser, updateUserName } from './users.repo.js';
import type { Me } from './users.schemas.js';
import { toUser, type UpdateMeBody, type User } from './users.schemas.js';

export type UsersService = ReturnType<typeof createUsersService>;

export function createUsersService(deps: { db: Db }) {
  const { db } = deps;
  return {
    async me(userId: string): Promise<Me> {
      const row = await findUser(db, userId);
      // A live session whose account was erased in the meantime.
      if (!row) throw new NotFoundError('not-found', 'The account no longer exists');
      return { ...toUser(row), emailVerified: row.emailVerifiedAt !== null };
    },
    async updateMe(userId: string, input: UpdateMeBody): Promise<User> {
      const row = await updateUserName(db, userId, input.name);
      if (!row) throw new NotFoundError('not-found', 'The account no longer exists');
      return toUser(row);
    },
  };
}
