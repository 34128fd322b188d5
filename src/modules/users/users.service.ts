import { NotFoundError } from '../../http/errors.js';
import type { Database } from '../../platform/db.js';
import { findUser, updateUserName } from './users.repo.js';
import { toUser, type UpdateMeBody, type User } from './users.schemas.js';

export type UsersService = ReturnType<typeof createUsersService>;

export function createUsersService(deps: { db: Database }) {
  const { db } = deps;
  return {
    async me(userId: string): Promise<User> {
      const row = await findUser(db.prisma, userId);
      // A live session whose account was erased in the meantime.
      if (!row) throw new NotFoundError('not-found', 'The account no longer exists');
      return toUser(row);
    },
    async updateMe(userId: string, input: UpdateMeBody): Promise<User> {
      const row = await updateUserName(db.prisma, userId, input.name);
      if (!row) throw new NotFoundError('not-found', 'The account no longer exists');
      return toUser(row);
    },
  };
}
