import type { Queryable } from '../../platform/db-handle.js';

/**
 * The GDPR contract between the privacy module and every module that stores personal data. Each module declares
 * one section: what it exports for a user (access / portability, Art. 15 and 20) and how it erases them (Art. 17).
 * `GET /users/me/export` and `DELETE /users/me` walk the registry, so a new module (billing, bank links) plugs in by
 * adding its section to the list in app.ts — the privacy module itself does not change.
 */
export interface PersonalDataSection {
  /** Key of this section in the export document (`profile`, `checkins`, `billing`, …); unique. */
  name: string;
  /**
   * Every datum the module holds about the user, decrypted and without secrets (no hashes, no tokens). Must be
   * JSON-serialisable; instants as ISO strings, dates as YYYY-MM-DD.
   */
  export(db: Queryable, userId: string): Promise<unknown>;
  /**
   * Work outside the database that must succeed before anything is erased (cancel the Stripe subscription, delete
   * the customer, remove a Plaid item). Runs before the erasure transaction; throwing aborts the whole deletion
   * with nothing erased, so it must be safe to run again on retry.
   */
  beforeErase?(db: Queryable, userId: string): Promise<void>;
  /** Deletes the module's rows of the user, inside the one erasure transaction shared by every section. */
  erase(tx: Queryable, userId: string): Promise<void>;
}

/** Refuses two sections with one name: the export document would silently lose one of them. */
export function createPrivacyRegistry(sections: readonly PersonalDataSection[]): readonly PersonalDataSection[] {
  const names = new Set<string>();
  for (const section of sections) {
    if (names.has(section.name)) throw new Error(`Two personal-data sections are named ${section.name}`);
    names.add(section.name);
  }
  return sections;
}
