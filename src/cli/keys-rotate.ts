import { createFieldCipher, type FieldCipher, FieldDecryptionError, fieldContext } from '../platform/crypto.js';
import type { Queryable } from '../platform/db.js';
import { cliLogger, openCliDatabase, readBatchSize, readCliConfig, runCli } from './cli-database.js';
import { ENCRYPTED_COLUMNS, type EncryptedColumn, replaceValues, valuesNotUnder } from './encrypted-columns.repo.js';

/**
 * `npm run keys:rotate` (production image: `node dist/cli/keys-rotate.js`): re-encrypts every encrypted value that
 * is not under FIELD_ENCRYPTION_KEY_ID, or that is bound to its owner only in a column whose values are now bound to
 * their row too (ADR 0009), so the old key can then be removed (docs/operations.md, "Rotating the field
 * encryption key"). Safe while the API runs and resumable: each batch commits on its own, only values still under
 * another key are selected, and each update applies only if the value is still the one read, so a concurrent write
 * by the API (already under the current key) wins. A value that does not decrypt is reported by row id, never by
 * content, and left as it is; the command then exits 1. Exit codes: 0 done, 1 a value failed, 2 usage.
 */

const USAGE = 'usage: keys-rotate [--batch-size <1-10000>]\n';

interface Outcome {
  rotated: number;
  /** Changed by the API between our read and our update: already under the current key. */
  raced: number;
  failed: number;
}

async function rotateColumn(db: Queryable, cipher: FieldCipher, col: EncryptedColumn, batchSize: number) {
  const { table, column, key, rowBound } = col;
  const outcome: Outcome = { rotated: 0, raced: 0, failed: 0 };
  let after: string | null = null;
  for (;;) {
    const rows = await valuesNotUnder(db, col, cipher.currentFormPattern(rowBound), after, batchSize);
    if (rows.length === 0) return outcome;
    after = rows.at(-1)?.pk ?? null;

    const pks: string[] = [];
    const olds: string[] = [];
    const news: string[] = [];
    for (const row of rows) {
      const context = fieldContext(table, column, row.userId);
      const rowId = rowBound ? row.pk : undefined;
      try {
        news.push(cipher.encrypt(cipher.decrypt(row.value, context, rowId), context, rowId));
        pks.push(row.pk);
        olds.push(row.value);
      } catch (err) {
        if (!(err instanceof FieldDecryptionError)) throw err;
        outcome.failed++;
        process.stderr.write(`${table}.${column} ${key}=${row.pk}: does not decrypt (${err.reason})\n`);
      }
    }
    if (pks.length === 0) continue;
    const written = await replaceValues(db, col, { pks, olds, news });
    outcome.rotated += written;
    outcome.raced += pks.length - written;
  }
}

runCli('keys-rotate', async () => {
  const batchSize = readBatchSize(USAGE, { fallback: 500, max: 10_000 });
  if (batchSize === undefined) return 0;
  const config = readCliConfig();
  const cipher = createFieldCipher(config.fieldEncryption);
  const { db, close } = await openCliDatabase(config, cliLogger());
  let failed = 0;
  try {
    process.stdout.write(`re-encrypting under key ${cipher.currentKeyId}\n`);
    for (const col of ENCRYPTED_COLUMNS) {
      const o = await rotateColumn(db, cipher, col, batchSize);
      failed += o.failed;
      process.stdout.write(
        `${col.table}.${col.column}: ${o.rotated} re-encrypted, ${o.raced} changed concurrently, ${o.failed} failed\n`,
      );
    }
  } finally {
    await close();
  }
  if (failed > 0) {
    process.stderr.write(`${failed} value(s) did not decrypt and remain under their old key; see above\n`);
    return 1;
  }
  return 0;
});
