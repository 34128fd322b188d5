import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
 * Runs the real entry point (src/main.ts) in its own process with exactly `env` (plus PATH and HOME), and waits
 * until `GET <ready>` answers `status`. Output is collected for assertions and failure messages.
 */
export async function spawnServer(env: Record<string, string>, until = { path: '/health/startup', status: 200 }) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), ...env },
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
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const status = await fetch(url(until.path)).then(
      (r) => r.status,
      () => 0,
    );
    if (status === until.status) return handle;
    await sleep(200);
  }
  handle.kill();
  throw new Error(`server never answered ${until.status} on ${until.path}:\n${output}`);
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
