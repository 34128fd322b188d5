/**
 * The `bank-sync` scenario (`BENCH_ONLY=bank-sync`): 10,000 then 50,000 transactions (pages of 500) synced from the
 * tests' Plaid-compatible server (test/support/plaid-server.ts) into the bench's database by the sync service the
 * `banking.sync` job runs (src/modules/banking/banking.sync.ts), in this process rather than through a worker: the
 * fake server lives here too. Reports each run's time and transactions a second, and this process's RSS before and
 * during; targets: time(50,000) ≤ 6 × time(10,000), RSS during the 50,000 ≤ 64 MiB above before it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createAuditLog } from '../src/modules/audit/audit.port.js';
import { accessTokenContext } from '../src/modules/banking/banking.service.js';
import { createBankSync } from '../src/modules/banking/banking.sync.js';
import { createFieldCipher } from '../src/platform/crypto.js';
import { createDatabase } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { createPlaid } from '../src/platform/plaid.js';
import {
  fakeAccount,
  fakeTransaction,
  startPlaidServer,
  TEST_PLAID_CLIENT_ID,
  TEST_PLAID_SECRET,
} from '../test/support/plaid-server.js';

export const BANK_SYNC_SCENARIO = 'bank-sync';
/** A first 10,000 warms the JIT, the pool and the fake server up, and is not counted. */
const SIZES = [10_000, 10_000, 50_000] as const;
const MAX_GROWTH = 6;
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;

export interface BankSyncRun {
  transactions: number;
  seconds: number;
  perSecond: number;
  rssBeforeBytes: number;
  rssPeakBytes: number;
}

export async function benchBankSync(databaseUrl: string, say: (line: string) => void) {
  const plaid = await startPlaidServer();
  const logger = createLogger({ level: 'silent' });
  const db = createDatabase({
    url: databaseUrl,
    poolMax: 4,
    logger,
    timeouts: { statementMs: 30_000, connectionWaitMs: 5_000 },
  });
  try {
    const cipher = createFieldCipher({ keys: new Map([['k1', randomBytes(32)]]), currentKeyId: 'k1' });
    const client = createPlaid({
      clientId: TEST_PLAID_CLIENT_ID,
      secret: TEST_PLAID_SECRET,
      environment: 'sandbox',
      apiUrl: plaid.url,
    });
    const sync = createBankSync({
      db,
      plaid: client,
      cipher,
      auditLog: createAuditLog(),
      now: () => new Date(),
    });
    const runs: BankSyncRun[] = [];
    for (const size of SIZES) {
      const user = await db.pool.query<{ id: string }>(
        `INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id`,
        [`bench-sync-${size}-${randomUUID()}@example.com`],
      );
      const userId = user.rows[0]?.id as string;
      const account = fakeAccount();
      const publicToken = plaid.publicToken('ins_109508', [account]);
      const exchanged = await client.itemPublicTokenExchange({ public_token: publicToken });
      for (let n = 0; n < size; n += 1) {
        plaid.add(
          exchanged.item_id,
          fakeTransaction(account.account_id, {
            transaction_id: `tx_sync_${runs.length}_${n}`,
            amount: Number((1 + (n % 9_000) / 100).toFixed(2)),
            date: new Date(Date.UTC(2026, 0, 1 + (n % 300))).toISOString().slice(0, 10),
          }),
        );
      }
      const itemId = randomUUID();
      await db.pool.query(
        `INSERT INTO plaid_items (id, user_id, plaid_item_id, access_token_enc) VALUES ($1, $2, $3, $4)`,
        [itemId, userId, exchanged.item_id, cipher.encrypt(exchanged.access_token, accessTokenContext(userId), itemId)],
      );
      globalThis.gc?.();
      const rssBeforeBytes = process.memoryUsage().rss;
      let rssPeakBytes = rssBeforeBytes;
      const sampler = setInterval(() => {
        rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage().rss);
      }, 50);
      const started = process.hrtime.bigint();
      const outcome = await sync.run(itemId, logger);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      const stored = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM bank_transactions WHERE user_id = $1',
        [userId],
      );
      if (outcome !== 'synced' || stored.rows[0]?.n !== size)
        throw new Error(`bank-sync: ${outcome}, ${stored.rows[0]?.n} of ${size} transactions stored`);
      const run = { transactions: size, seconds, perSecond: size / seconds, rssBeforeBytes, rssPeakBytes };
      runs.push(run);
      const label = runs.length === 1 ? `${size} (warm-up)` : `${size}`;
      const mib = (b: number) => Math.round(b / 1024 / 1024);
      say(
        `  bank-sync ${label}: ${seconds.toFixed(2)} s, ${Math.round(run.perSecond)} tx/s, RSS ${mib(rssBeforeBytes)} → ${mib(rssPeakBytes)} MiB`,
      );
    }
    const [, small, large] = runs as [BankSyncRun, BankSyncRun, BankSyncRun];
    const growth = large.seconds / small.seconds;
    const rssGrowth = large.rssPeakBytes - large.rssBeforeBytes;
    const failed = [
      ...(growth <= MAX_GROWTH ? [] : [`time(50,000) = ${growth.toFixed(2)} × time(10,000), above ${MAX_GROWTH}×`]),
      ...(rssGrowth <= MAX_RSS_GROWTH_BYTES ? [] : [`RSS grew ${Math.round(rssGrowth / 1048576)} MiB during 50,000`]),
    ];
    say(`  bank-sync growth ${growth.toFixed(2)}× (target ≤ ${MAX_GROWTH}×): ${failed.length ? 'FAIL' : 'PASS'}`);
    return { runs, growth, failed };
  } finally {
    await db.close();
    await plaid.close();
  }
}
