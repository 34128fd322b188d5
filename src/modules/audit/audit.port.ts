import type { Queryable } from '../../platform/db-handle.js';
import { auditOfInsertSql, deleteAuditOfTargets, insertAudit, listAudit } from './audit.repo.js';
import type { AuditListQuery, AuditLogRow, AuditOfInsert, AuditRecord } from './audit.schemas.js';

/**
 * The audit entry of a row a statement inserts, for the repository that writes that statement: given the name of
 * the CTE that inserts the row (its `user_id` and `id` fill the entry), the statement that writes the entry, to run
 * as another CTE of the same statement. Opaque to services.
 */
export type AuditOfInsertStatement = (relation: string) => ReturnType<typeof auditOfInsertSql>;

/**
 * The audit log as other modules reach it: services receive one (app.ts) rather than importing its repository, and
 * write their entries inside their own transaction by passing its handle.
 */
export interface AuditLog {
  /** Appends an entry, in the transaction `db` is when it is one: the entry commits with what it records. */
  record(db: Queryable, entry: AuditRecord): Promise<void>;
  /**
   * The entry of a row a repository inserts and audits in one statement, built from the same row definition as
   * `record`: the repository names its CTE.
   */
  ofInsert(entry: AuditOfInsert): AuditOfInsertStatement;
  list(db: Queryable, query: AuditListQuery): Promise<AuditLogRow[]>;
  /**
   * Erases the entries about targets that stand for a person without naming an account (an email's HMAC), for the
   * erasure of that person's account; entries with a user are erased by the user.
   */
  forgetTargets(db: Queryable, targetType: string, targetIds: string[]): Promise<void>;
}

export function createAuditLog(): AuditLog {
  return {
    record: insertAudit,
    ofInsert: (entry) => (relation) => auditOfInsertSql(relation, entry),
    list: listAudit,
    forgetTargets: deleteAuditOfTargets,
  };
}
