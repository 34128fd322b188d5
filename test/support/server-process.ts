import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { inject } from 'vitest';
import { ROOT } from './app.js';
import { createTestDatabase } from './postgres.js';

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the real entry point (src/main.ts, or the worker's: `entry`) in its own process with exactly `env` (plus PATH and HOME), and waits
 * until `GET <ready>` answers `status`. Output is collected for assertions and failure messages.
 */
export async function spawnServer(
  env: Record<string, string>,
  until = { path: '/health/startup', status: 200 },
  entry = { script: 'src/main.ts', portVariable: 'PORT' },
) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', entry.script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      [entry.portVariable]: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = (p: string) => `http://127.0.0.1:${port}${p}`;
  const handle = {
    port,
    child,
    exited,
    url,
    output: () => output,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  if (await answers(url(until.path), until.status, child, 60_000)) return handle;
  handle.kill();
  throw new Error(`server never answered ${until.status} on ${until.path}:\n${output}`);
}

/** Polls `url` until it answers `status`: true; false once `child` has exited or `timeoutMs` has passed. */
export async function answers(url: string, status: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    const answered = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (answered === status) return true;
    await sleep(200);
  }
  return false;
}

/**
 * A request the server is still reading until `finish()`: a sign-out whose JSON body is only partly sent, which the
 * body parser waits for. `Expect: 100-continue` makes the server say when it holds the request (`accepted`). The
 * refresh token names no session, so the answer, once the body is complete, is 204.
 */
export function requestInFlight(port: number) {
  const body = JSON.stringify({ refreshToken: 'x'.repeat(64) });
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/api/v1/auth/logout',
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Expect: '100-continue',
    },
  });
  const accepted = new Promise<void>((resolve) =>
    req.once('continue', () => {
      req.write(body.slice(0, 10));
      resolve();
    }),
  );
  const response = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
    },
  );
  req.flushHeaders();
  return { accepted, finish: () => req.end(body.slice(10)), response };
}

/**
 * `spawnServer` on a database of its own with the run's Redis and test defaults (NODE_ENV=test, an operator token,
 * a 5 s drain); `env` adds or overrides. `stop()` kills the process and drops the database.
 */
export async function spawnServerOnTestDatabase(env: Record<string, string> = {}) {
  const database = await createTestDatabase();
  try {
    const server = await spawnServer({
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: inject('redisUrl') ?? '',
      HEALTH_TOKEN: randomBytes(32).toString('base64url'),
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    });
    return Object.assign(server, {
      async stop() {
        server.kill();
        database.release();
      },
    });
  } catch (err) {
    database.release();
    throw err;
  }
}
