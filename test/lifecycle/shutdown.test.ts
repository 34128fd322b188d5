import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.js';
import { requestInFlight, spawnServer } from '../support/server-process.js';

/**
 * The real entry point (src/main.ts) in its own process, stopped with real signals. A slow client keeps a request
 * in flight across the SIGTERM: its body arrives only after the signal.
 */
let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

function startServer() {
  return spawnServer({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl') ?? '',
    HEALTH_TOKEN: 'shutdown-test-token-0123456789abcdefghijklmnop',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
  });
}

/**
 * A keep-alive connection left idle after one answer. The server ends idle connections right after it stops
 * listening, so `ended` resolving means new connections are refused from then on.
 */
async function idleConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let received = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (d) => {
      received += d;
      if (/\r\n\r\n/.test(received)) resolve();
    });
    socket.once('error', reject);
    socket.write('GET /health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
  expect(received).toMatch(/^HTTP\/1\.1 200 /);
  return { ended };
}

describe('graceful shutdown', () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  afterAll(() => server?.kill());

  it('when SIGTERM arrives during a slow request, answers it with Connection: close, refuses new connections, then exits 0', async () => {
    server = await startServer();
    const idle = await idleConnection(server.port);
    const slow = requestInFlight(server.port);
    await slow.accepted;
    server.child.kill('SIGTERM');
    await idle.ended;

    const refused = await fetch(`http://127.0.0.1:${server.port}/health/liveness`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
    expect(server.child.exitCode).toBeNull();

    slow.finish();
    const answer = await slow.response;
    expect(answer.status).toBe(204);
    // Answered during the drain, it tells the client not to send another request on that connection.
    expect(answer.headers.connection).toBe('close');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutdown complete');
  }, 90_000);

  it('when a second signal arrives during the drain, exits at once with 1', async () => {
    server = await startServer();
    const slow = requestInFlight(server.port);
    slow.response.catch(() => {}); // the connection is cut: that is the point
    await slow.accepted;
    server.child.kill('SIGTERM');
    const output = server.output;
    await expect.poll(output, { timeout: 10_000 }).toContain('shutting down');
    const before = Date.now();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(1);
    expect(Date.now() - before).toBeLessThan(2_000);
  }, 90_000);
});
