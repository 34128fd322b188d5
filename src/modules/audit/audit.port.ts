import type { Queryable } from '../../platform/db.js';
import { auditOfInsertSql, insertAudit, listAudit } from './audit.repo.js';
import type { AuditListQuery, AuditOfInsert, AuditRecord } from './audit.schemas.js';

/** A statement that writes an audit entry, for a repository to run with the write it audits. Opaque elsewhere. */
export type AuditStatement = ReturnType<typeof auditOfInsertSql>;

/**
 * The audit log as other modules reach it: services receive one (app.ts) rather than importing its repository, and
 * write their entries inside their own transaction by passing its handle.
 */
export interface AuditLog {
  /** Appends an entry, in the transaction `db` is when it is one: the entry commits with what it records. */
  record(db: Queryable, entry: AuditRecord): Promise<void>;
  /**
   * The entry of the row a statement's CTE named `relation` inserts, built from the same row definition as `record`,
   * for a repository that writes and audits in one statement.
   */
  ofInsert(relation: string, entry: AuditOfInsert): AuditStatement;
  list(db: Queryable, query: AuditListQuery): ReturnType<typeof listAudit>;
}

export function createAuditLog(): AuditLog {
  return { record: insertAudit, ofInsert: auditOfInsertSql, list: listAudit };
}
