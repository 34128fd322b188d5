import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { UNREACHABLE_REDIS } from './app.js';
import { databasesOfRun, startTestServices } from './global-setup.js';
import { admin } from './postgres.js';

/** The run's own PostgreSQL server, under a run id of this test's own, so only its databases are looked at. */
function options() {
  const runId = `setup_${randomBytes(6).toString('hex')}`;
  return {
    runId,
    serverUrl: inject('pgServerUrl'),
    env: { DATABASE_URL: inject('pgServerUrl'), REDIS_URL: inject('redisUrl') ?? UNREACHABLE_REDIS },
  };
}

/** Whether the server is creating `database`, or has created it. */
function underWayOrDone(serverUrl: string, database: string): Promise<boolean> {
  return admin(serverUrl, async (c) => {
    const { rows } = await c.query<{ seen: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)
           OR EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'CREATE DATABASE ' || $1 || ' %')
           AS seen`,
      [database],
    );
    return rows[0]?.seen === true;
  });
}

async function until(condition: () => Promise<boolean>) {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the test run setup', () => {
  it('when migrating the template database fails, drops it and rethrows the failure', async () => {
    const failure = new Error('migration 0042 failed');
    const seen: string[][] = [];
    const run = options();
    const setup = startTestServices({
      ...run,
      migrate: async () => {
        seen.push(await databasesOfRun(run.serverUrl, run.runId));
        throw failure;
      },
    });
    await expect(setup).rejects.toBe(failure);
    expect(seen).toEqual([[`mingus_test_${run.runId}_template`]]);
    expect(await databasesOfRun(run.serverUrl, run.runId)).toEqual([]);
  });

  it('when Redis is missing under CI=true after the template is migrated, drops the template and says why', async () => {
    const run = options();
    const setup = startTestServices({
      ...run,
      env: { ...run.env, CI: 'true', REDIS_URL: UNREACHABLE_REDIS },
      migrate: async () => undefined,
    });
    await expect(setup).rejects.toThrow(`Redis does not answer at ${UNREACHABLE_REDIS}`);
    expect(await databasesOfRun(run.serverUrl, run.runId)).toEqual([]);
  });

  it('when setup succeeds, its teardown drops the template and every database cloned from it', async () => {
    const run = options();
    const services = await startTestServices({ ...run, migrate: async () => undefined });
    expect(services.provided).toMatchObject({
      pgServerUrl: run.serverUrl,
      templateDatabase: `mingus_test_${run.runId}_template`,
      runId: run.runId,
    });
    const clone = (n: number) =>
      admin(run.serverUrl, (c) =>
        c.query(`CREATE DATABASE mingus_test_${run.runId}_${n} TEMPLATE ${services.provided.templateDatabase}`),
      );
    await clone(1);
    expect(await databasesOfRun(run.serverUrl, run.runId)).toEqual([
      `mingus_test_${run.runId}_1`,
      `mingus_test_${run.runId}_template`,
    ]);
    // A worker's clone made ahead of need may still be under way when the run ends.
    const inFlight = clone(2);
    await until(() => underWayOrDone(run.serverUrl, `mingus_test_${run.runId}_2`));
    await services.teardown();
    await inFlight;
    expect(await databasesOfRun(run.serverUrl, run.runId)).toEqual([]);
  });
});
