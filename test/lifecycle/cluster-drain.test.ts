import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServerOnTestDatabase } from '../support/server-process.js';

/**
 * What became of one request:
 * - answered: a whole answer arrived (any status);
 * - refused: the connection was refused, so the server never accepted it;
 * - raced: a new connection, opened after the signal, was reset before any answer. The listener was closing: the
 *   kernel had completed the handshake but the server had not accepted the connection yet, and closing a listener
 *   resets the connections still in its queue. For the client it is a refusal that came a moment too late;
 * - dropped: any other failure: a request on a connection opened before the signal, on a reused keep-alive
 *   connection, or cut after its answer began.
 */
type Outcome =
  | { kind: 'answered'; path: string; status: number; closing: boolean }
  | { kind: 'refused' }
  | { kind: 'raced'; code: string }
  | { kind: 'dropped'; path: string; code: string; reused: boolean; afterSignal: boolean };

function send(port: number, path: string, agent: http.Agent | false, afterSignal: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let answering = false;
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      answering = true;
      res.on('error', failed);
      res.resume();
      res.on('end', () =>
        resolve({ kind: 'answered', path, status: res.statusCode ?? 0, closing: res.headers.connection === 'close' }),
      );
    });
    const failed = (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (code === 'ECONNREFUSED') resolve({ kind: 'refused' });
      else if (afterSignal && !req.reusedSocket && !answering) resolve({ kind: 'raced', code });
      else resolve({ kind: 'dropped', path, code, reused: req.reusedSocket, afterSignal });
    };
    req.on('error', failed);
  });
}

/**
 * A steady load: each client sends its next request as soon as the last one is answered, until a connection is
 * refused. Some reuse a keep-alive connection (a new one after `Connection: close`), the others open a new
 * connection for every request, so that connections keep arriving while the listener closes. Each alternates an
 * answer given at once (liveness) with one that waits on PostgreSQL and Redis (readiness).
 */
function startLoad(port: number, clients: { keepAlive: number; fresh: number }, signalled: () => boolean) {
  const outcomes: Outcome[] = [];
  const paths = ['/health/liveness', '/health/readiness'];
  const client = async (agent: http.Agent | false, first: number) => {
    for (let n = first; ; n++) {
      const outcome = await send(port, paths[n % paths.length] as string, agent, signalled());
      outcomes.push(outcome);
      if (outcome.kind === 'refused') break;
    }
    if (agent) agent.destroy();
  };
  const agents = [
    ...Array.from({ length: clients.keepAlive }, () => new http.Agent({ keepAlive: true, maxSockets: 1 })),
    ...Array.from({ length: clients.fresh }, () => false as const),
  ];
  const done = Promise.all(agents.map((agent, i) => client(agent, i)));
  const answered = () => outcomes.filter((o) => o.kind === 'answered').length;
  return { outcomes, done, answered };
}

/** Opens a keep-alive connection and leaves it idle after one answer; the agent holds it until destroyed. */
async function idleConnection(port: number): Promise<http.Agent> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health/liveness', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
  });
  return agent;
}

type ServerProcess = Awaited<ReturnType<typeof spawnServerOnTestDatabase>>;

/** PIDs of the worker processes of a primary. */
function workerPids(primaryPid: number): number[] {
  return execFileSync('pgrep', ['-P', String(primaryPid), '-f', 'src/main.ts'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(Number);
}

/**
 * Starts two workers, puts them under a steady load with an idle keep-alive connection besides, lets 200 requests be
 * answered (about a second), then `signal`s and waits for the load to meet a closed port and for the process to exit.
 */
async function drainUnderLoad(server: ServerProcess, signal: () => void) {
  await expect.poll(() => (server.output().match(/startup complete/g) ?? []).length, { timeout: 45_000 }).toBe(2);
  const idle = await idleConnection(server.port);
  const clients = { keepAlive: 4, fresh: 12 };
  let signalled = false;
  const load = startLoad(server.port, clients, () => signalled);
  await expect.poll(load.answered, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(200);
  signalled = true;
  // A request sent before this point connects on the next tick: let those connect before the signal.
  await new Promise((resolve) => setImmediate(resolve));
  signal();
  await load.done;
  const exitCode = await server.exited;
  idle.destroy();
  return { outcomes: load.outcomes, clients: clients.keepAlive + clients.fresh, exitCode };
}

function expectNothingAcceptedDropped(result: Awaited<ReturnType<typeof drainUnderLoad>>, output: string) {
  const of = <K extends Outcome['kind']>(kind: K) =>
    result.outcomes.filter((o): o is Extract<Outcome, { kind: K }> => o.kind === kind);
  const summary = { answered: of('answered').length, refused: of('refused').length, raced: of('raced').length };
  expect(of('dropped'), JSON.stringify(summary)).toEqual([]);
  // Every client ran until the listener had closed, and requests kept arriving during the drain: those were answered
  // with Connection: close.
  expect(of('refused')).toHaveLength(result.clients);
  expect(of('answered').filter((o) => o.closing).length).toBeGreaterThan(0);
  // Readiness answers 503 from the signal on, by design; nothing else fails.
  const failed = of('answered').filter(
    (o) => o.status !== 200 && !(o.status === 503 && o.path === '/health/readiness'),
  );
  expect(failed).toEqual([]);
  // The idle connection was closed by its worker, not cut at the drain deadline (which exits 1).
  expect(result.exitCode).toBe(0);
  expect(output).not.toContain('in-flight requests cut at the drain deadline');
}

describe('WEB_CONCURRENCY=2 under a steady load', { timeout: 90_000 }, () => {
  let running: ServerProcess | undefined;
  afterEach(() => running?.stop());
  const start = async () => {
    running = await spawnServerOnTestDatabase({ WEB_CONCURRENCY: '2', DATABASE_POOL_MAX: '3', LOG_LEVEL: 'info' });
    return running;
  };

  it('when the primary gets SIGTERM, answers every request on every connection it accepted, then exits 0', async () => {
    const server = await start();
    const result = await drainUnderLoad(server, () => server.child.kill('SIGTERM'));
    expectNothingAcceptedDropped(result, server.output());
  });

  it('when the whole process group gets SIGTERM (systemd, a terminal), the workers wait for the primary: nothing accepted is dropped', async () => {
    const server = await start();
    const pids = [server.child.pid as number, ...workerPids(server.child.pid as number)];
    expect(pids).toHaveLength(3);
    const result = await drainUnderLoad(server, () => {
      for (const pid of pids) process.kill(pid, 'SIGTERM');
    });
    expectNothingAcceptedDropped(result, server.output());
  });
});
